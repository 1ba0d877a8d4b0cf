import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './fill-holes.cases.js';

defineKernelTests('fill-holes', cases);
