// softmax(scale · x) over the last axis vs an f64 reference.
// Tolerance: each output is exp(·)/sum in f32; elementwise |got − ref| ≤ 2e-6·|ref| + 1e-9 (measured
// ≤ 1e-6: exp, the blocked f32 sum over up to 4099 terms and the division; atol only covers underflow).
import { softmax } from '../../src/kernels/softmax/softmax.js';
import { softmaxRef } from '../../src/kernels/softmax/softmax.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

function softmaxCase(shape: number[], scale: number, lo: number, hi: number): KernelCase {
  const cols = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const name = `softmax x=[${shape}] scale=${scale} x∈[${lo}, ${hi})`;
  return {
    name,
    async run(gpu) {
      const x = randomArray(rows * cols, rows * 31 + cols, lo, hi);
      const tx = gpu.upload(x, shape);
      const out = gpu.upload(nanArray(rows * cols), shape);
      softmax(gpu, tx, scale, out);
      const ref = softmaxRef(x, rows, cols, scale);
      assertClose(name, await gpu.read(out), ref, { rtol: 2e-6, atol: 1e-9 }, [rows, cols]);
      [tx, out].forEach((t) => t.release());
    },
  };
}

export const cases: KernelCase[] = [
  softmaxCase([5, 1], 1, -3, 3),
  softmaxCase([3, 7], 1, -3, 3),
  softmaxCase([2, 3, 1000], 0.125, -20, 20),
  softmaxCase([9, 4099], 1, -8, 8),
  // large logits: a softmax without the max subtraction overflows exp
  softmaxCase([17, 33], 1, 80, 120),
  // negative scale (the max must be taken of scale · x, not of x)
  softmaxCase([4, 64], -2, -5, 5),
  // attention-shaped scores: 8 heads × 4096 queries × 64 keys (scale 1/sqrt(32))
  softmaxCase([8, 4096, 64], 1 / Math.sqrt(32), -6, 6),
];
