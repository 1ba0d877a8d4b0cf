// ConvTranspose2d k2/s2 (mask decoder output_upscaling) vs the float64 reference, with and without
// the fused skip add. Tolerance: f32 accumulation over Cin ≤ 256 products against float64:
// rel_l2 ≤ 2e-6 and max |Δ| ≤ 1e-5 · max |ref| (a wrong sub-pixel or channel is O(1)).
import { convTranspose2x2, convTranspose2x2OutputShape } from '../../src/kernels/conv/conv-transpose.js';
import { convTranspose2x2Ref } from '../../src/kernels/conv/conv.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

const TOL = { relL2: 2e-6, maxAbsRel: 1e-5 };

/** `sharedSkip`: one skip map added to every item of the batch (objects decoded on one slice). */
function convTCase(label: string, batch: number | undefined, h: number, w: number, cin: number, cout: number, withSkip: boolean, sharedSkip = false): KernelCase {
  const b = batch ?? 1;
  const xShape = batch ? [batch, h, w, cin] : [h, w, cin];
  const wShape = [cin, cout, 2, 2];
  return {
    name: `${label}: ${b}x${h}x${w}x${cin} -> ${cout}${withSkip ? (sharedSkip ? ' + shared skip' : ' + skip') : ''}`,
    async run(gpu) {
      const seed = h * 31 + w * 17 + cin * 5 + cout;
      const x = randomArray(b * h * w * cin, seed, -1, 1);
      const lim = Math.sqrt(3 / cin);
      const wt = randomArray(cin * cout * 4, seed + 1, -lim, lim);
      const bias = randomArray(cout, seed + 2, -0.5, 0.5);
      const outShape = convTranspose2x2OutputShape(xShape, wShape);
      const n = outShape.reduce((a, c) => a * c, 1);
      const skipShape = sharedSkip ? outShape.slice(1) : outShape;
      const skip = withSkip ? randomArray(sharedSkip ? n / b : n, seed + 3, -1, 1) : undefined;
      const tx = gpu.upload(x, xShape);
      const tw = gpu.upload(wt, wShape);
      const tb = gpu.upload(bias, [cout]);
      const ts = skip ? gpu.upload(skip, skipShape) : undefined;
      const out = gpu.upload(nanArray(n), outShape);
      convTranspose2x2(gpu, tx, tw, tb, ts, out);
      const ref = convTranspose2x2Ref(x, wt, bias, b, h, w, cin, cout, skip);
      assertClose('conv-transpose2x2', await gpu.read(out), ref, TOL, outShape);
      [tx, tw, tb, ts, out].forEach((t) => t?.release());
    },
  };
}

export const cases: KernelCase[] = [
  convTCase('odd sizes', undefined, 5, 7, 9, 6, false),
  convTCase('odd sizes', undefined, 5, 7, 9, 6, true),
  convTCase('batch 2, one input channel', 2, 3, 11, 1, 5, true),
  convTCase('batch 3, one skip map for all', 3, 5, 7, 9, 6, true, true),
  convTCase('batch 4 objects, upscaling 1 (micro)', 4, 8, 8, 64, 16, true, true),
  convTCase('pixel blocks across rows', undefined, 1, 13, 3, 1, false),
  // Real shapes: tiny at S=512 (F=32): ConvT 256->64 + feat_s1, then 64->32 + feat_s0.
  convTCase('upscaling 1 (tiny, S=512)', undefined, 32, 32, 256, 64, true),
  convTCase('upscaling 2 (tiny, S=512)', undefined, 64, 64, 64, 32, true),
];
