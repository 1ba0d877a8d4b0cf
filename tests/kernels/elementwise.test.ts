import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './elementwise.cases.js';

defineKernelTests('elementwise', cases);
