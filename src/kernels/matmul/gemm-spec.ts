// One GEMM launch as every variant of the family sees it (validated by validateGemm):
//   out[bi, m, n] = alpha · act(Σ_k A'[bi, m, k] · B[bi, k, n] + bias[n]) + residual[bi, m, n]
// where A' = A, or LayerNorm(A) over k when the spec has a normA prologue (normalize on load).
// plus what every variant shares when it turns a spec into a launch: the uniform struct, the
// binding order and the workgroup-grid fold.
import { DTYPE_BYTES, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { MAX_WORKGROUPS_PER_DIM } from '../program.js';
import type { WeightFormat } from '../../weights/packed.js';
import { ACTIVATION_CODE, RESIDUAL_MODE, type Activation, type BLayout } from './matmul.wgsl.js';

/**
 * B kept packed on the GPU (a weight: layout 'nk', batch 1). `b` is then the u32 words of
 * src/weights/packed.ts and the kernel dequantizes in registers (matmul-packed.wgsl.ts). A variant
 * without the packed seam must return false from supports() for such specs.
 */
export interface GemmPackedB {
  format: WeightFormat;
  /** Word offset of the scales inside `b` (int8/int4). */
  scaleOffset: number;
  /** Elements per scale along the flattened [N, K] matrix: K (int8), G (int4), 0 (floats). */
  group: number;
}

/**
 * LayerNorm of A's rows fused into the GEMM's A loads (torch.nn.LayerNorm over K, biased variance):
 * A'[m, k] = (A[m, k] − mean_m) / sqrt(var_m + eps) · weight[k] + bias[k]. The row statistics are
 * computed inside the kernel, so no normalized copy of A is written. Only variants that return
 * true from supports() for such specs have the prologue (matmul-regblock).
 */
export interface GemmNormA {
  /** γ [K], activation dtype. */
  weight: GpuTensor;
  /** β [K], activation dtype. */
  bias: GpuTensor;
  eps: number;
}

export interface GemmSpec {
  /** For error messages: `linear` or `matmul`. */
  op: string;
  /** [batch, M, K] row-major (2-D means batch 1). Its dtype is the activations' (a, bias, residual, out). */
  a: GpuTensor;
  /** [batch, N, K] ('nk': PyTorch Linear weights, a·bᵀ) or [batch, K, N] ('kn'); f32 or f16 whatever a is, or u32 words when bPacked. */
  b: GpuTensor;
  out: GpuTensor;
  bias?: GpuTensor;
  residual?: GpuTensor;
  batch: number;
  m: number;
  n: number;
  k: number;
  /** Element strides between batch slices of a and b (0 broadcasts one slice). */
  aBatch: number;
  bBatch: number;
  layout: BLayout;
  act: Activation;
  alpha: number;
  /** RESIDUAL_MODE: none, the residual binding, or out itself (in place). */
  resMode: number;
  /** Set when B is a packed weight (see GemmPackedB). */
  bPacked?: GemmPackedB;
  /** LayerNorm prologue on A's rows (see GemmNormA). */
  normA?: GemmNormA;
}

/** The Params uniform (GEMM_PARAMS in matmul.wgsl.ts) for a variant whose row blocks are `tileM` rows. */
export function gemmUniforms(s: GemmSpec, tileM: number): Uint8Array {
  const [bStrideN, bStrideK] = s.layout === 'nk' ? [s.k, 1] : [1, s.n];
  return uniforms([
    ['u32', s.m], ['u32', s.n], ['u32', s.k], ['u32', s.batch],
    ['u32', Math.ceil(s.m / tileM)], ['u32', s.aBatch], ['u32', s.bBatch], ['u32', s.m * s.n],
    ['u32', bStrideN], ['u32', bStrideK], ['u32', s.bias ? 1 : 0], ['u32', ACTIVATION_CODE[s.act]],
    ['u32', s.resMode], ['f32', s.alpha], ['u32', s.bPacked?.scaleOffset ?? 0], ['u32', s.bPacked?.group ?? 0],
    ['f32', s.normA?.eps ?? 0],
  ]);
}

/**
 * Bindings a, b, bias, residual, out (+ γ, β of a normA prologue; the uniforms follow the last).
 * Unused optional inputs are bound to `a` (read-only aliasing is allowed) and switched off by uniforms.
 */
export function gemmBindings(s: GemmSpec): GpuTensor[] {
  const base = [s.a, s.b, s.bias ?? s.a, s.resMode === RESIDUAL_MODE.binding ? s.residual! : s.a, s.out];
  return s.normA ? [...base, s.normA.weight, s.normA.bias] : base;
}

export function gemmFlops(s: GemmSpec): number {
  return 2 * s.batch * s.m * s.n * s.k;
}

/** Bytes read and written once each (the ideal traffic). */
export function gemmBytes(s: GemmSpec): number {
  const act = DTYPE_BYTES[s.a.dtype];
  const b = s.bPacked ? s.b.byteLength : DTYPE_BYTES[s.b.dtype] * s.b.size;
  return act * (s.a.size + s.out.size * (s.resMode ? 2 : 1) + (s.bias ? s.n : 0) + (s.normA ? 2 * s.k : 0)) + b;
}

/** Workgroup grid: x over column blocks, (y, z) folding batch × row blocks past 65 535. */
export function gemmGrid(s: Pick<GemmSpec, 'batch' | 'm' | 'n'>, tileM: number, tileN: number): [number, number, number] {
  const x = Math.max(1, Math.ceil(s.n / tileN));
  const blocks = Math.max(1, s.batch * Math.ceil(s.m / tileM));
  const z = Math.ceil(blocks / MAX_WORKGROUPS_PER_DIM);
  return [x, Math.ceil(blocks / z), z];
}

/** Storage types as a name suffix: `f32`, `f16`, `f32-wf16` (f32 activations, f16 weights) or `f32-wint4` (packed). */
export function gemmDtypeTag(s: GemmSpec): string {
  if (s.bPacked) return `${s.a.dtype}-w${s.bPacked.format}`;
  return s.b.dtype === s.a.dtype ? s.a.dtype : `${s.a.dtype}-w${s.b.dtype}`;
}

/**
 * Whether the adapter can run this spec's storage types at all. Packed weights are decoded from
 * u32 words and never need shader-f16; a variant must still check that it has the packed seam.
 */
export function gemmDtypesSupported(s: GemmSpec, f16: boolean): boolean {
  if (s.bPacked) return s.a.dtype === 'f32' || f16;
  return (s.a.dtype === 'f32' || f16) && (s.b.dtype === 'f32' || f16);
}
