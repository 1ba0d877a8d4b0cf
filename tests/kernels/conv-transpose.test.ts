import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './conv-transpose.cases.js';

defineKernelTests('conv-transpose', cases);
