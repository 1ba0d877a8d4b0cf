import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './preprocess.cases.js';

defineKernelTests('preprocess', cases);
