import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './conv.cases.js';

defineKernelTests('conv', cases);
