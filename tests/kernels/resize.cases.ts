// Resize kernels vs the references (PyTorch's float32 indices and weights, float64 sums):
// nearest x2 (+ lateral), bilinear, bicubic and antialiased bilinear, at odd, non-square and
// non-integer ratios and at the real SAM 2 shapes.
// Tolerance: at most 16 taps (81 for 4x antialias) with weights in [−0.1, 1] on O(range) data,
// summed in f32: |Δ| ≤ 2e-6·range + 1e-6·|ref| (observed ~1e-7·range). A wrong tap index or weight
// moves values by ~1e-2·range or more; nearest is exact.
import { nearestUp2, resize, type ResizeMode } from '../../src/kernels/resize/resize.js';
import { antialiasTaps, linearTaps, nearestUp2Ref, resizeRef } from '../../src/kernels/resize/resize.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function nearestCase(batch: number | undefined, h: number, w: number, c: number, withLateral: boolean): KernelCase {
  const b = batch ?? 1;
  const shape = batch ? [batch, h, w, c] : [h, w, c];
  const outShape = batch ? [batch, 2 * h, 2 * w, c] : [2 * h, 2 * w, c];
  return {
    name: `nearest x2 ${b}x${h}x${w}x${c}${withLateral ? ' + lateral' : ''}`,
    async run(gpu) {
      const x = randomArray(prod(shape), h * 7 + w + c, -1, 1);
      const lat = withLateral ? randomArray(prod(outShape), h + w * 3 + c, -1, 1) : undefined;
      const tx = gpu.upload(x, shape);
      const tl = lat ? gpu.upload(lat, outShape) : undefined;
      const out = gpu.upload(nanArray(prod(outShape)), outShape);
      nearestUp2(gpu, tx, tl, out);
      // f32 add of two f32 values is exactly the f32 rounding of the float64 sum
      assertClose('nearest2x', await gpu.read(out), Float32Array.from(nearestUp2Ref(x, b, h, w, c, lat)), { atol: 0, rtol: 0 }, outShape);
      [tx, tl, out].forEach((t) => t?.release());
    },
  };
}

function resizeCase(mode: ResizeMode, batch: number | undefined, inH: number, inW: number, c: number, outH: number, outW: number, range = 1, label = ''): KernelCase {
  const b = batch ?? 1;
  const shape = batch ? [batch, inH, inW, c] : [inH, inW, c];
  const outShape = batch ? [batch, outH, outW, c] : [outH, outW, c];
  return {
    name: `${mode} ${b}x${inH}x${inW}x${c} -> ${outH}x${outW}${label ? ` (${label})` : ''}`,
    async run(gpu) {
      const x = randomArray(prod(shape), inH * 13 + inW * 5 + c + outH, -range, range);
      const tx = gpu.upload(x, shape);
      const out = gpu.upload(nanArray(prod(outShape)), outShape);
      resize(gpu, mode, tx, [outH, outW], out);
      const ref = resizeRef(mode, x, b, inH, inW, c, outH, outW);
      assertClose(`resize-${mode}`, await gpu.read(out), ref, { atol: 2e-6 * range, rtol: 1e-6 }, outShape);
      [tx, out].forEach((t) => t.release());
    },
  };
}

/** The antialiased 4x reduction uses 8 taps with weights (1,3,5,7,7,5,3,1)/32 (spec trap T22). */
const aaWeightsCase: KernelCase = {
  name: 'bilinear-aa reference: exact 4x reduction weights',
  async run() {
    const taps = antialiasTaps(1024, 256);
    const inner = taps[100];
    const want = [1, 3, 5, 7, 7, 5, 3, 1].map((v) => v / 32);
    assertClose('aa taps index', inner.index, [398, 399, 400, 401, 402, 403, 404, 405], { atol: 0 });
    assertClose('aa taps weight', inner.weight, want, { atol: 1e-7 });
    // First output index: taps 0..5 (the filter is cut by the border) renormalised to sum 1.
    const edge = taps[0];
    assertClose('aa border index', edge.index, [0, 1, 2, 3, 4, 5], { atol: 0 });
    assertClose('aa border weight', edge.weight, [5, 7, 7, 5, 3, 1].map((v) => v / 28), { atol: 1e-7 });
  },
};

/**
 * Bilinear source coordinates are exact (double), as in the torch 1.13 that produced the fixtures:
 * for 64 -> 320, dst 165: src = fp32(0.2)·165.5 − 0.5 = 32.6000004932…, whereas a float32
 * evaluation rounds it to 32.6000023 (8e-5 off on micro-video's mask logits).
 */
const exactCoordCase: KernelCase = {
  name: 'bilinear reference: exact source coordinates (64 -> 320, dst 165)',
  async run() {
    const t = linearTaps(64, 320)[165];
    const want = Math.fround(64 / 320) * 165.5 - 32.5;
    assertClose('lambda', t.weight, [1 - want, want], { atol: 1e-15 });
    assertClose('index', t.index, [32, 33], { atol: 0 });
    if (Math.abs(want - 0.6000004932) > 1e-9) throw new Error(`unexpected exact lambda ${want}`);
  },
};

export const cases: KernelCase[] = [
  exactCoordCase,
  nearestCase(2, 5, 7, 3, false),
  nearestCase(undefined, 3, 9, 5, true),
  nearestCase(undefined, 8, 8, 64, true), // micro FPN level 3 -> level 2
  resizeCase('bilinear', undefined, 13, 11, 3, 29, 17),
  resizeCase('bilinear', undefined, 13, 11, 3, 5, 4),
  resizeCase('bilinear', 2, 16, 16, 1, 48, 80),
  resizeCase('bilinear', undefined, 9, 9, 2, 9, 9, 1, 'same size'),
  resizeCase('bilinear', undefined, 64, 64, 1, 256, 256, 20, 'micro low-res mask -> S'),
  resizeCase('bilinear', undefined, 64, 64, 1, 192, 320, 20, 'micro low-res mask -> video'),
  resizeCase('bilinear', undefined, 128, 128, 1, 480, 854, 20, 'S=512 low-res mask -> 480x854 video'),
  resizeCase('bilinear', undefined, 256, 256, 1, 1024, 1024, 20, 'tiny low-res mask -> S'),
  resizeCase('bicubic', undefined, 7, 7, 5, 13, 9),
  resizeCase('bicubic', 2, 5, 6, 3, 4, 11),
  resizeCase('bicubic', undefined, 7, 7, 16, 64, 64, 0.5, 'micro pos_embed'),
  resizeCase('bicubic', undefined, 7, 7, 96, 256, 256, 0.5, 'tiny pos_embed at S=1024'),
  aaWeightsCase,
  resizeCase('bilinear-aa', undefined, 64, 64, 1, 16, 16, 10),
  resizeCase('bilinear-aa', 2, 37, 53, 2, 16, 16, 10),
  resizeCase('bilinear-aa', undefined, 10, 10, 1, 23, 17, 10, 'upsampling'),
  resizeCase('bilinear-aa', undefined, 192, 320, 1, 64, 64, 10, 'micro video mask prompt -> 4F'),
  resizeCase('bilinear-aa', undefined, 1024, 1024, 1, 256, 256, 10, 'tiny mask prompt -> 4F'),
];
