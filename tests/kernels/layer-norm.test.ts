import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './layer-norm.cases.js';

defineKernelTests('layer-norm', cases);
