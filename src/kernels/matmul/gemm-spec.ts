// One GEMM launch as every variant of the family sees it (validated by validateGemm):
//   out[bi, m, n] = alpha · act(Σ_k A[bi, m, k] · B[bi, k, n] + bias[n]) + residual[bi, m, n]
import type { GpuTensor } from '../../runtime/tensor.js';
import type { Activation, BLayout } from './matmul.wgsl.js';

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
}
