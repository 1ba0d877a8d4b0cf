// CPU reference (f64) for scaled-dot-product attention over strided views of host arrays.

export interface HostView {
  data: Float32Array;
  offset?: number;
  rowStride?: number;
  batchStride?: number;
}

export interface AttentionRefShape {
  batch: number;
  heads: number;
  headDim: number;
  nq: number;
  nk: number;
  scale?: number;
  /** Channels per head of v and the output (default headDim). */
  vHeadDim?: number;
}

function resolve(v: HostView, tokens: number, channels: number): Required<HostView> {
  const rowStride = v.rowStride ?? channels;
  return { data: v.data, offset: v.offset ?? 0, rowStride, batchStride: v.batchStride ?? rowStride * tokens };
}

/**
 * Returns [batch, rows.length, heads·vhd] (contiguous) where `rows` are the query indices to
 * evaluate (default: all nq). Softmax with max subtraction, all in f64.
 */
export function attentionRef(q: HostView, k: HostView, v: HostView, s: AttentionRefShape, rows?: readonly number[]): Float64Array {
  const { batch, heads, headDim: hd, nq, nk } = s;
  const scale = s.scale ?? 1 / Math.sqrt(hd);
  const vhd = s.vHeadDim ?? hd;
  const c = heads * hd;
  const cv = heads * vhd;
  const Q = resolve(q, nq, c);
  const K = resolve(k, nk, c);
  const V = resolve(v, nk, cv);
  const rowList = rows ?? Array.from({ length: nq }, (_, i) => i);
  const out = new Float64Array(batch * rowList.length * cv);
  const scores = new Float64Array(nk);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let ri = 0; ri < rowList.length; ri++) {
        const qi = Q.offset + b * Q.batchStride + rowList[ri] * Q.rowStride + h * hd;
        let max = -Infinity;
        for (let j = 0; j < nk; j++) {
          const ki = K.offset + b * K.batchStride + j * K.rowStride + h * hd;
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += Q.data[qi + d] * K.data[ki + d];
          scores[j] = dot * scale;
          if (scores[j] > max) max = scores[j];
        }
        let sum = 0;
        for (let j = 0; j < nk; j++) {
          scores[j] = Math.exp(scores[j] - max);
          sum += scores[j];
        }
        const o = (b * rowList.length + ri) * cv + h * vhd;
        for (let j = 0; j < nk; j++) {
          const w = scores[j] / sum;
          const vi = V.offset + b * V.batchStride + j * V.rowStride + h * vhd;
          for (let d = 0; d < vhd; d++) out[o + d] += w * V.data[vi + d];
        }
      }
    }
  }
  return out;
}
