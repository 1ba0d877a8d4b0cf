import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './rope.cases.js';

defineKernelTests('rope', cases);
