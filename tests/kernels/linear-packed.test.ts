import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './linear-packed.cases.js';

defineKernelTests('linear-packed', cases);
