import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './decisions.cases.js';

defineKernelTests('decisions', cases);
