import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './attention.cases.js';

defineKernelTests('attention', cases);
