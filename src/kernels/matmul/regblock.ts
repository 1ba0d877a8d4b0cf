// Variant `matmul-regblock`: the register-blocked kernels of matmul.wgsl.ts (16×8 outputs per
// invocation, 8-lane workgroups, no workgroup memory). Fastest on CPU adapters (lavapipe,
// SwiftShader), where barriers and shared memory are expensive; the default there. Also the
// variant with the packed-weight seam (GemmSpec.bPacked: f16/bf16/int8/int4 weights).
import { uniforms } from '../../runtime/uniforms.js';
import { MAX_WORKGROUPS_PER_DIM, type KernelProgram } from '../program.js';
import type { KernelVariant } from '../registry.js';
import type { GemmSpec } from './gemm-spec.js';
import { ACTIVATION_CODE, GEMM_TILE_M, GEMM_TILE_N, gemmScalarSource, gemmVec4Source, RESIDUAL_MODE } from './matmul.wgsl.js';
import { gemmPackedScalarSource, gemmPackedVec4Source } from './matmul-packed.wgsl.js';

/** Lanes per workgroup; each lane owns GEMM_TILE_N columns of the same GEMM_TILE_M rows. */
const WG = 8;

/** Workgroup grid: x over column blocks, (y, z) folding batch × row blocks past 65 535. */
export function gemmWorkgroups(batch: number, m: number, n: number): [number, number, number] {
  const x = Math.max(1, Math.ceil(n / (GEMM_TILE_N * WG)));
  const blocks = Math.max(1, batch * Math.ceil(m / GEMM_TILE_M));
  const z = Math.ceil(blocks / MAX_WORKGROUPS_PER_DIM);
  return [x, Math.ceil(blocks / z), z];
}

/** The program (strategy chosen by alignment: vec4 along K, or scalar for odd K/N). */
export function regblockProgram(s: GemmSpec): KernelProgram {
  const { a, b, out, bias, residual, batch, m, n, k, resMode } = s;
  const dtype = a.dtype;
  const vec4 = k % 4 === 0 && (s.layout === 'nk' || n % 4 === 0);
  const strategy = vec4 ? `${s.layout}4` : 'scalar';
  const packed = s.bPacked;
  // Packed weights: the same kernel with the dequantizing B seam (matmul-packed.wgsl.ts).
  const name = `matmul-regblock-${strategy}-${dtype}${packed ? `-w${packed.format}` : ''}`;
  const [bStrideN, bStrideK] = s.layout === 'nk' ? [k, 1] : [1, n];
  const bytesPer = dtype === 'f16' ? 2 : 4;
  const source = packed
    ? () => (vec4 ? gemmPackedVec4Source(packed.format, dtype) : gemmPackedScalarSource(packed.format, dtype))
    : () => (vec4 ? gemmVec4Source(s.layout, dtype) : gemmScalarSource(dtype));
  return {
    name,
    source,
    constants: { WG },
    // Unused optional inputs are bound to `a` (read-only aliasing is allowed) and switched off by uniforms.
    bindings: [a, b, bias ?? a, resMode === RESIDUAL_MODE.binding ? residual! : a, out],
    uniforms: uniforms([
      ['u32', m], ['u32', n], ['u32', k], ['u32', batch],
      ['u32', Math.ceil(m / GEMM_TILE_M)], ['u32', s.aBatch], ['u32', s.bBatch], ['u32', m * n],
      ['u32', bStrideN], ['u32', bStrideK], ['u32', bias ? 1 : 0], ['u32', ACTIVATION_CODE[s.act]],
      ['u32', resMode], ['f32', s.alpha], ['u32', packed?.scaleOffset ?? 0], ['u32', packed?.group ?? 0],
    ]),
    workgroups: gemmWorkgroups(batch, m, n),
    flops: 2 * batch * m * n * k,
    bytes: bytesPer * (a.size + out.size * (resMode ? 2 : 1) + (bias ? n : 0)) + (packed ? b.byteLength : bytesPer * b.size),
  };
}

export const regblockVariant: KernelVariant<GemmSpec> = {
  id: 'matmul-regblock',
  supports: (s, t) => s.a.dtype === 'f32' || t.f16,
  configs: () => [{}],
  build: (s) => [regblockProgram(s)],
};
