import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './memory-bank.cases.js';

defineKernelTests('memory-bank', cases);
