import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './matmul.cases.js';

defineKernelTests('matmul', cases);
