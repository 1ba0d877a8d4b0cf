// CPU references (f64 accumulation) for linear and batched matmul.
import { geluRef } from '../elementwise/elementwise.ref.js';
import type { Activation } from './matmul.wgsl.js';

const ACT_REF: Record<Activation, (v: number) => number> = {
  none: (v) => v,
  relu: (v) => Math.max(v, 0),
  gelu: geluRef,
};

export interface LinearRefOptions {
  act?: Activation;
  alpha?: number;
  residual?: ArrayLike<number>;
}

/** out [M, N] = alpha · act(x [M, K] · W [N, K]ᵀ + bias [N]) + residual [M, N]. */
export function linearRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias: ArrayLike<number> | undefined,
  m: number,
  n: number,
  k: number,
  opts: LinearRefOptions = {},
): Float64Array {
  const act = ACT_REF[opts.act ?? 'none'];
  const alpha = opts.alpha ?? 1;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j] : 0;
      for (let t = 0; t < k; t++) s += x[i * k + t] * w[j * k + t];
      let y = alpha * act(s);
      if (opts.residual) y += opts.residual[i * n + j];
      out[i * n + j] = y;
    }
  }
  return out;
}

/**
 * Batched out [B, M, N] = a [Ba, M, K] · b [Bb, K, N] (or b [Bb, N, K] with transB), where a batch
 * of 1 broadcasts.
 */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  dims: { batchA: number; batchB: number; m: number; n: number; k: number; transB?: boolean },
): Float64Array {
  const { batchA, batchB, m, n, k, transB } = dims;
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    const ao = (batchA === 1 ? 0 : bi) * m * k;
    const bo = (batchB === 1 ? 0 : bi) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a[ao + i * k + t] * b[bo + (transB ? j * k + t : t * n + j)];
        out[(bi * m + i) * n + j] = s;
      }
    }
  }
  return out;
}

export interface GemmRefDims {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** Element strides between batch slices (0 broadcasts one slice). */
  aBatch: number;
  bBatch: number;
  /** B as [N, K] ('nk') or [K, N] ('kn'). */
  layout: 'nk' | 'kn';
}

/** out [B, M, N] = alpha · act(a·b + bias) + residual, the whole GEMM contract of every variant. */
export function gemmRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  bias: ArrayLike<number> | undefined,
  d: GemmRefDims,
  opts: LinearRefOptions = {},
): Float64Array {
  const act = ACT_REF[opts.act ?? 'none'];
  const alpha = opts.alpha ?? 1;
  const { batch, m, n, k } = d;
  const out = new Float64Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    const ao = bi * d.aBatch;
    const bo = bi * d.bBatch;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = bias ? bias[j] : 0;
        for (let t = 0; t < k; t++) s += a[ao + i * k + t] * b[bo + (d.layout === 'nk' ? j * k + t : t * n + j)];
        const o = (bi * m + i) * n + j;
        out[o] = alpha * act(s) + (opts.residual ? opts.residual[o] : 0);
      }
    }
  }
  return out;
}
