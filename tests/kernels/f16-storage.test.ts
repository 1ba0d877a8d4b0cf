import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './f16-storage.cases.js';

defineKernelTests('f16-storage', cases);
