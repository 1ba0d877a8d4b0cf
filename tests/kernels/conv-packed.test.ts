import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './conv-packed.cases.js';

defineKernelTests('conv-packed', cases);
