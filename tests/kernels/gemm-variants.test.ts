// Every GEMM variant forced in turn against the CPU references (matmul.ref.ts): the linear and
// matmul cases (minus the few big ones, which only re-test the same code at a higher price on a
// software adapter), the tile-edge cases and the f16 storage cases. matmul-regblock runs the
// linear/matmul cases unforced in linear.test.ts and matmul.test.ts on CPU adapters. The
// subgroup-matrix variant cannot run on adapters without the feature: its suite only checks that it
// never ran (define-variant-tests) and gemm-sgmat.test.ts checks its WGSL.
// Packed weights (f16/bf16/int8/int4 words, dequantized in the load seam): every variant whose
// supports() accepts them runs a subset of linear-packed.cases.ts (matmul-regblock runs all of them
// unforced in linear-packed.test.ts); matmul-sgmat refuses them (gemm-selection.test.ts).
import { TILED_CONFIGS } from '../../src/kernels/matmul/tiled.js';
import { SUBGROUP_CONFIGS } from '../../src/kernels/matmul/subgroup.js';
import { GEMM_FAMILY } from '../../src/kernels/matmul/variants.js';
import { cfgKey } from '../../src/kernels/registry.js';
import { defineVariantTests } from '../helpers/define-variant-tests.js';
import { edgeCases, f16Cases } from './gemm-edges.cases.js';
import { cases as linearCases } from './linear.cases.js';
import { cases as matmulCases } from './matmul.cases.js';
import { cases as packedCases } from './linear-packed.cases.js';

const BIG = /\[(1025|4096|1048565),|65536|contract/;
const shapeCases = [...linearCases, ...matmulCases].filter((c) => !BIG.test(c.name));

// Lavapipe compiles each pipeline for seconds and every (layout, alignment, dtype, config) is one, so
// the big suites pin one small config (many tiles per case: every edge path runs) and a sweep runs
// the other tile shapes on one edge case. The shape-dependent defaults run in the GPU-tier parity test.
const SMALL_TILED = TILED_CONFIGS.find((c) => c.TM === 32 && c.TN === 32)!;
const SMALL_SUBGROUP = SUBGROUP_CONFIGS.find((c) => c.RM === 4 && c.WG === 64)!;
defineVariantTests(GEMM_FAMILY, [...shapeCases, ...edgeCases, ...f16Cases], [
  { id: 'matmul-tiled', cfg: SMALL_TILED, label: cfgKey(SMALL_TILED) },
  { id: 'matmul-subgroup', cfg: SMALL_SUBGROUP, label: cfgKey(SMALL_SUBGROUP) },
  { id: 'matmul-sgmat' },
]);
defineVariantTests(GEMM_FAMILY, [...edgeCases, ...f16Cases], [{ id: 'matmul-regblock' }]);

// 8-row micro-tiles with TK 16 and 256 lanes, TK 32 with 128 lanes, and 8-row subgroup blocks.
defineVariantTests(GEMM_FAMILY, [edgeCases[0]], [
  ...TILED_CONFIGS.filter((c) => c.TM === 128 || (c.TM === 64 && c.TK === 32 && c.TN === 64)).map((cfg) => ({ id: 'matmul-tiled', cfg, label: cfgKey(cfg) })),
  ...SUBGROUP_CONFIGS.filter((c) => c.RM === 8 && c.WG === 64).map((cfg) => ({ id: 'matmul-subgroup', cfg, label: cfgKey(cfg) })),
]);

// One pipeline per (format, alignment, activation type): vec4 and scalar loads, every format, the
// per-row (int8) and per-group (int4) scales, f16 activations over packed and f32 words. The two
// variants share one load_b4 seam (matmul-packed.wgsl.ts), so matmul-subgroup takes three of them
// (vec4, scalar, f16 activations).
const PACKED = /(f16 act=f32 M=33|bf16 act=f32 M=17|int8 act=f32 M=33|int4-g32 act=f32|int8 act=f32 M=7|int4-g64 act=f16|f32 act=f16)/;
const PACKED_SUBGROUP = /(int4-g32 act=f32|int8 act=f32 M=7|int4-g64 act=f16)/;
defineVariantTests(GEMM_FAMILY, packedCases.filter((c) => PACKED.test(c.name)), [
  { id: 'matmul-tiled', cfg: SMALL_TILED, label: `${cfgKey(SMALL_TILED)}, packed` },
]);
defineVariantTests(GEMM_FAMILY, packedCases.filter((c) => PACKED_SUBGROUP.test(c.name)), [
  { id: 'matmul-subgroup', cfg: SMALL_SUBGROUP, label: `${cfgKey(SMALL_SUBGROUP)}, packed` },
]);
