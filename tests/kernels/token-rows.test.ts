import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './token-rows.cases.js';

defineKernelTests('token-rows', cases);
