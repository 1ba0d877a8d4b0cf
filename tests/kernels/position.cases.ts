// Positional encodings: GPU kernels and float32-faithful host builders vs the float64 references.
// Tolerance max |Δ| ≤ 1e-5 (values in [−1, 1]): the f32 argument of sin/cos carries ~1 ulp of
// error, i.e. ≤ 2π·6e-8 for the sine PE and ≤ |arg|·6e-8 ≈ 3e-6 for RFF arguments up to ~50 rad;
// the kernels' own sin/cos add < 1e-7. A wrong channel order or frequency is O(1).
import { rffDense, sinePosition } from '../../src/kernels/position/position.js';
import { rffDenseF32, rffPointsF32, sine1dF32, sinePositionEncodingF32, temporalPositionF32 } from '../../src/kernels/position/position-f32.js';
import { rffDenseRef, rffPointsRef, sine1dRef, sinePositionEncodingRef } from '../../src/kernels/position/position.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

const TOL = { atol: 1e-5 };

function sineCase(h: number, w: number, c: number, label = ''): KernelCase {
  return {
    name: `sine PE ${h}x${w}x${c}${label ? ` (${label})` : ''}`,
    async run(gpu) {
      const out = gpu.upload(nanArray(h * w * c), [h, w, c]);
      sinePosition(gpu, h, w, c, {}, out);
      const ref = sinePositionEncodingRef(h, w, c);
      assertClose('sine PE (GPU)', await gpu.read(out), ref, TOL, [h, w, c]);
      assertClose('sine PE (f32 host)', sinePositionEncodingF32(h, w, c), ref, TOL, [h, w, c]);
      out.release();
    },
  };
}

/** A randn-like gaussian matrix (the real buffer is N(0,1)); |G| < 3 gives arguments up to 2π·6 ≈ 38 rad. */
function gaussian(n: number, seed: number): Float32Array {
  return randomArray(2 * n, seed, -3, 3);
}

function rffCase(h: number, w: number, c: number, label = ''): KernelCase {
  return {
    name: `RFF dense PE ${h}x${w}x${c}${label ? ` (${label})` : ''}`,
    async run(gpu) {
      const g = gaussian(c / 2, h * 11 + c);
      const tg = gpu.upload(g, [2, c / 2]);
      const out = gpu.upload(nanArray(h * w * c), [h, w, c]);
      rffDense(gpu, tg, h, w, out);
      const ref = rffDenseRef(g, h, w);
      assertClose('RFF dense PE (GPU)', await gpu.read(out), ref, TOL, [h, w, c]);
      assertClose('RFF dense PE (f32 host)', rffDenseF32(g, h, w), ref, TOL, [h, w, c]);
      [tg, out].forEach((t) => t.release());
    },
  };
}

const rffPointsCase: KernelCase = {
  name: 'RFF point PE (f32 host) vs reference, and pixel centres reproduce the dense grid',
  async run() {
    const n = 128;
    const g = gaussian(n, 5);
    // Prompt-encoder style: pixel coordinates + 0.5 of a 1024x1024 image, non-square 480x854 too.
    const pts = Float32Array.from([0.5, 0.5, 100.5, 37.5, 1023.5, 1000.5, 511.5, 0.5, 3.25, 17.75]);
    assertClose('RFF points', rffPointsF32(pts, g, 1024, 1024), rffPointsRef(pts, g, 1024, 1024), TOL, [5, 2 * n]);
    assertClose('RFF points 480x854', rffPointsF32(pts, g, 480, 854), rffPointsRef(pts, g, 480, 854), TOL, [5, 2 * n]);
    const f = 9;
    const centres: number[] = [];
    for (let y = 0; y < f; y++) for (let x = 0; x < f; x++) centres.push(x + 0.5, y + 0.5);
    assertClose('RFF points at pixel centres = dense grid', rffPointsF32(centres, g, f, f), rffDenseF32(g, f, f), { atol: 0 }, [f, f, 2 * n]);
  },
};

const sine1dCase: KernelCase = {
  name: '1-D sine PE (object-pointer temporal encoding, f32 host) vs reference',
  async run() {
    // Pointer distances over max_obj_ptrs_in_encoder − 1 = 15 (and a short 5-slice volume: 4).
    for (const [tMax, dim] of [[15, 256], [4, 64], [15, 10]]) {
      const pos: number[] = [];
      for (let d = -tMax; d <= tMax; d++) pos.push(temporalPositionF32(d, tMax));
      assertClose(`sine1d dim=${dim}`, sine1dF32(pos, dim), sine1dRef(pos, dim), TOL, [pos.length, dim]);
    }
  },
};

export const cases: KernelCase[] = [
  sineCase(13, 7, 10, 'odd grid, 5 frequencies per axis'),
  sineCase(16, 16, 64, 'micro neck'),
  sineCase(32, 32, 64, 'memory encoder, S=512'),
  sineCase(64, 64, 256, 'tiny neck level 2, S=1024'),
  rffCase(13, 9, 10, 'odd grid'),
  rffCase(16, 16, 64, 'micro'),
  rffCase(64, 64, 256, 'tiny, S=1024'),
  rffPointsCase,
  sine1dCase,
];
