// One GEMM launch as every variant of the family sees it (validated by validateGemm):
//   out[bi, m, n] = alpha · act(Σ_k A[bi, m, k] · B[bi, k, n] + bias[n]) + residual[bi, m, n]
import type { GpuTensor } from '../../runtime/tensor.js';
import type { WeightFormat } from '../../weights/packed.js';
import type { Activation, BLayout } from './matmul.wgsl.js';

/**
 * B kept packed on the GPU (a weight: layout 'nk', batch 1). `b` is then the u32 words of
 * src/weights/packed.ts and the kernel dequantizes in registers. A variant that has no packed
 * seam must return false from supports() for such specs.
 */
export interface GemmPackedB {
  format: WeightFormat;
  /** Word offset of the scales inside `b` (int8/int4). */
  scaleOffset: number;
  /** Elements per scale along the flattened [N, K] matrix: K (int8), G (int4), 0 (floats). */
  group: number;
}

export interface GemmSpec {
  /** For error messages: `linear` or `matmul`. */
  op: string;
  /** [batch, M, K] row-major (2-D means batch 1). */
  a: GpuTensor;
  /** [batch, N, K] ('nk': PyTorch Linear weights, a·bᵀ) or [batch, K, N] ('kn'). */
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
}
