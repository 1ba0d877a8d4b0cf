import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './linear-norm.cases.js';

defineKernelTests('linear-norm', cases);
