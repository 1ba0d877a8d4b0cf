// The GPU-class variants forced on a few edge cases, for the browser page (kernels-in-chromium),
// which runs every `cases` export under Chromium's own WebGPU (SwiftShader: 4-lane subgroups, no
// f16): a second implementation for the tiled and subgroup GEMMs and the implicit-GEMM conv, which
// Node's variant suites (gemm-variants, conv-variants) run on lavapipe (8-lane subgroups).
import { forcedCase } from '../helpers/forced-case.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { cases as convCases } from './conv.cases.js';
import { edgeCases } from './gemm-edges.cases.js';

const gemm = [edgeCases[0], edgeCases[5]];
const conv = convCases.filter((c) => /^(patch-embed|downsampler) geometry/.test(c.name));

export const cases: KernelCase[] = [
  ...gemm.flatMap((c) => [
    forcedCase(c, 'matmul', { id: 'matmul-tiled', cfg: { TM: 32, TN: 32, TK: 16, WG: 64 } }),
    // Needs subgroups, and 64 lanes must hold whole subgroups.
    forcedCase(c, 'matmul', { id: 'matmul-subgroup', cfg: { RM: 4, WG: 64 } }, (gpu) => gpu.target.subgroups && 64 % gpu.target.subgroupMaxSize === 0),
  ]),
  ...conv.map((c) => forcedCase(c, 'conv', { id: 'conv-igemm', cfg: { TM: 64, TN: 32, TK: 16, WG: 128 } })),
];
