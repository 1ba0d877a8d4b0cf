import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './window.cases.js';

defineKernelTests('window', cases);
