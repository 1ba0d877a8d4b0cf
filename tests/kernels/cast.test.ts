import { defineKernelTests } from '../helpers/define-kernel-tests.js';
import { cases } from './cast.cases.js';

defineKernelTests('cast', cases);
