// LayerNorm over the last axis vs an f64 reference.
// Tolerance: outputs are O(1) (unit-variance rows scaled by weights in [0.5, 1.5] plus biases in
// [-1, 1]); the kernel works in f32 relative to each row's first value, so errors are a few ulp of
// the result: rel_l2 ≤ 5e-7 and max_abs ≤ 1e-6·max|ref|, including rows with a large common offset
// (x = 100 + noise), which a one-pass E[x²] − E[x]² variance or an unshifted f32 mean would fail.
import { layerNorm } from '../../src/kernels/layer-norm/layer-norm.js';
import { layerNormRef } from '../../src/kernels/layer-norm/layer-norm.ref.js';
import { geluRef } from '../../src/kernels/elementwise/elementwise.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

interface LayerNormSpec {
  /** x shape; the last axis is normalized. */
  shape: number[];
  eps: number;
  /** Common offset added to every value (noise is uniform in [-spread, spread]). */
  offset?: number;
  spread?: number;
  /** Fused activation after the norm. */
  act?: 'gelu';
}

function layerNormCase(s: LayerNormSpec): KernelCase {
  const c = s.shape[s.shape.length - 1];
  const rows = s.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const offset = s.offset ?? 0;
  const spread = s.spread ?? 2;
  const name = `layer-norm x=[${s.shape}] eps=${s.eps}${offset ? ` offset=${offset}` : ''} spread=${spread}${s.act ? ` then ${s.act}` : ''}`;
  return {
    name,
    async run(gpu) {
      const seed = rows * 13 + c * 7 + offset;
      const x = randomArray(rows * c, seed, offset - spread, offset + spread);
      const w = randomArray(c, seed + 1, 0.5, 1.5);
      const b = randomArray(c, seed + 2, -1, 1);
      const tx = gpu.upload(x, s.shape);
      const tw = gpu.upload(w, [c]);
      const tb = gpu.upload(b, [c]);
      const out = gpu.upload(nanArray(rows * c), s.shape);
      layerNorm(gpu, tx, tw, tb, s.eps, out, s.act);
      const ref = layerNormRef(x, w, b, rows, c, s.eps);
      // GELU's erf approximation (|error| < 1.2e-7) adds a few ulp more.
      if (s.act === 'gelu') ref.forEach((v, i) => (ref[i] = geluRef(v)));
      const tol = s.act ? { relL2: 1e-6, maxAbsRel: 2e-6 } : { relL2: 5e-7, maxAbsRel: 1e-6 };
      assertClose(name, await gpu.read(out), ref, tol, [rows, c]);
      [tx, tw, tb, out].forEach((t) => t.release());
    },
  };
}

export const cases: KernelCase[] = [
  // scalar path (C % 4 != 0)
  layerNormCase({ shape: [5, 3], eps: 1e-6 }),
  layerNormCase({ shape: [33, 17], eps: 1e-5, offset: 100, spread: 0.5 }),
  layerNormCase({ shape: [2, 7, 9, 255], eps: 1e-6, offset: -100 }),
  // vec4 path
  layerNormCase({ shape: [1, 4], eps: 1e-6 }),
  layerNormCase({ shape: [257, 96], eps: 1e-6, offset: 100, spread: 0.5 }),
  layerNormCase({ shape: [9, 1152], eps: 1e-6, offset: 100, spread: 1 }),
  layerNormCase({ shape: [7, 256], eps: 1e-5, spread: 1e-3 }),
  // Hiera stage 1 at 1024 px (256×256 tokens × 96 channels) and LayerNorm2d on a 64×64×256 map
  layerNormCase({ shape: [256, 256, 96], eps: 1e-6 }),
  layerNormCase({ shape: [1, 64, 64, 256], eps: 1e-6, offset: 10 }),
  // more than 65 535 workgroups of 64 rows: the folded 2-D dispatch
  layerNormCase({ shape: [65535 * 64 + 3, 2], eps: 1e-6 }),
  // LayerNorm2d → GELU in one launch (mask downsampler, decoder upscaling): scalar and vec4 paths.
  layerNormCase({ shape: [13, 11, 5], eps: 1e-6, act: 'gelu' }),
  layerNormCase({ shape: [64, 64, 64], eps: 1e-6, offset: 3, act: 'gelu' }),
];
