// Random GPU tensors for benchmarks (values only need to be finite and non-trivial).
import type { Gpu } from '../../src/runtime/gpu.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';

/** Fast deterministic uniform values in [lo, hi) (xorshift32). */
export function randomValues(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  const scale = (hi - lo) / 4294967296;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = lo + (x >>> 0) * scale;
  }
  return out;
}

/** Uploads a random f32 tensor of `shape`. */
export function randomTensor(gpu: Gpu, shape: readonly number[], seed = 1, lo = -1, hi = 1, label = 'bench'): GpuTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return gpu.upload(randomValues(n, seed, lo, hi), shape, 'f32', label);
}

/** Releases every tensor given (ignores undefined). */
export function releaseAll(...tensors: Array<GpuTensor | undefined>): void {
  for (const t of tensors) t?.release();
}
