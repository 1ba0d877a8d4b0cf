// The browser page's forced GPU-class cases (gpu-tier.cases.ts), also in Node.
import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './gpu-tier.cases.js';

defineKernelTests('gpu-tier', cases);
