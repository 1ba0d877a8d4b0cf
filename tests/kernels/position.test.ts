import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './position.cases.js';

defineKernelTests('position', cases);
