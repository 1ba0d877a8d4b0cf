import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './softmax.cases.js';

defineKernelTests('softmax', cases);
