import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './resize.cases.js';

defineKernelTests('resize', cases);
