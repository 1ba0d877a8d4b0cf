import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './linear.cases.js';

defineKernelTests('linear', cases);
