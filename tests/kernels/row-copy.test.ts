import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './row-copy.cases.js';

defineKernelTests('row-copy', cases);
