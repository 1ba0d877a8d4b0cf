// Variant `matmul-regblock`: the register-blocked kernels of matmul.wgsl.ts (16×8 outputs per
// invocation, 8-lane workgroups, no workgroup memory). Fastest on CPU adapters (lavapipe,
// SwiftShader), where barriers and shared memory are expensive; the default there. Packed weights
// (GemmSpec.bPacked: f16/bf16/int8/int4) swap in the dequantizing B seam of matmul-packed.wgsl.ts.
// The only variant with the LayerNorm prologue on A (GemmSpec.normA).
import type { KernelProgram } from '../program.js';
import type { KernelVariant } from '../registry.js';
import { gemmBindings, gemmBytes, gemmDtypesSupported, gemmDtypeTag, gemmFlops, gemmGrid, gemmUniforms, type GemmSpec } from './gemm-spec.js';
import { GEMM_TILE_M, GEMM_TILE_N, gemmScalarSource, gemmVec4Source } from './matmul.wgsl.js';
import { gemmPackedScalarSource, gemmPackedVec4Source } from './matmul-packed.wgsl.js';

/** Lanes per workgroup; each lane owns GEMM_TILE_N columns of the same GEMM_TILE_M rows. */
const WG = 8;

/** Workgroup grid: x over column blocks, (y, z) folding batch × row blocks past 65 535. */
export function gemmWorkgroups(batch: number, m: number, n: number): [number, number, number] {
  return gemmGrid({ batch, m, n }, GEMM_TILE_M, GEMM_TILE_N * WG);
}

/** The program (strategy chosen by alignment: vec4 along K, or scalar for odd K/N). */
export function regblockProgram(s: GemmSpec): KernelProgram {
  const dtype = s.a.dtype;
  const weight = s.b.dtype;
  const vec4 = s.k % 4 === 0 && (s.layout === 'nk' || s.n % 4 === 0);
  const strategy = vec4 ? `${s.layout}4` : 'scalar';
  const packed = s.bPacked;
  const norm = !!s.normA;
  const source = packed
    ? () => (vec4 ? gemmPackedVec4Source(packed.format, dtype, norm) : gemmPackedScalarSource(packed.format, dtype, norm))
    : () => (vec4 ? gemmVec4Source(s.layout, dtype, weight, undefined, norm) : gemmScalarSource(dtype, weight, undefined, norm));
  return {
    name: `matmul-regblock-${strategy}${norm ? '-ln' : ''}-${gemmDtypeTag(s)}`,
    source,
    constants: { WG },
    bindings: gemmBindings(s),
    uniforms: gemmUniforms(s, GEMM_TILE_M),
    workgroups: gemmWorkgroups(s.batch, s.m, s.n),
    flops: gemmFlops(s),
    bytes: gemmBytes(s),
  };
}

export const regblockVariant: KernelVariant<GemmSpec> = {
  id: 'matmul-regblock',
  supports: (s, t) => gemmDtypesSupported(s, t.f16),
  configs: () => [{}],
  build: (s) => [regblockProgram(s)],
};
