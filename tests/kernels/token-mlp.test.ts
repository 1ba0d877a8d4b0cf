import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './token-mlp.cases.js';

defineKernelTests('token-mlp', cases);
