// CPU reference of the token-MLP kernel (f64 accumulation).
import type { TokenMlpJob } from './token-mlp.js';

/** Applies every job to every batch item of x, writing into copies of `outputs`. */
export function tokenMlpRef(
  x: Float32Array, xCols: number, weights: Float32Array, jobs: readonly TokenMlpJob[], outputs: Float32Array[], batch = 1, rowOffset = 0,
): Float64Array[] {
  const outs = outputs.map((o) => Float64Array.from(o));
  const xItem = x.length / batch;
  for (let b = 0; b < batch; b++) {
    for (const job of jobs) {
      const start = b * xItem + (job.row + rowOffset) * xCols;
      let h: number[] = Array.from(x.subarray(start, start + xCols));
      for (const l of job.layers) {
        const next: number[] = [];
        for (let o = 0; o < l.outDim; o++) {
          let acc = 0;
          for (let k = 0; k < l.inDim; k++) acc += weights[l.weightOffset + o * l.inDim + k] * h[k];
          if (l.biasOffset !== undefined) acc += weights[l.biasOffset + o];
          next.push(l.relu ? Math.max(acc, 0) : acc);
        }
        h = next;
      }
      const out = outs[job.output];
      const item = out.length / batch;
      h.forEach((v, o) => (out[b * item + job.outOffset + o] = job.sigmoid ? 1 / (1 + Math.exp(-v)) : v));
    }
  }
  return outs;
}
