import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './mask-select.cases.js';

defineKernelTests('mask-select', cases);
