// conv2d (direct and depthwise) vs the float64 reference, at odd sizes and at the real SAM 2 uses:
// Hiera patch embed (7x7 s4 p3), mask downsampler (3x3 s2 p1), prompt mask downscaling (2x2 s2),
// mask_downsample (4x4 s4), CXBlock depthwise 7x7.
// Tolerance: f32 accumulation over K = Cin·kh·kw ≤ 576 products of O(1) terms against float64:
// rel_l2 ≤ 2e-6 and max |Δ| ≤ 1e-5 · max |ref| (observed ~1e-7; a wrong tap or channel is O(1)).
import { conv2d, conv2dOutputShape, type Conv2dOptions } from '../../src/kernels/conv/conv.js';
import { conv2dRef } from '../../src/kernels/conv/conv.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

interface ConvSpec {
  batch?: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  depthwise?: boolean;
  gelu?: boolean;
  /** Input value range (mask logits reach ±10 in the memory encoder). */
  range?: number;
}

const TOL = { relL2: 2e-6, maxAbsRel: 1e-5 };

function convCase(label: string, s: ConvSpec): KernelCase {
  const batch = s.batch ?? 1;
  const groups = s.depthwise ? s.cin : 1;
  const opts: Conv2dOptions = { stride: s.stride, padding: s.pad, groups, activation: s.gelu ? 'gelu' : 'none' };
  const xShape = s.batch ? [batch, s.h, s.w, s.cin] : [s.h, s.w, s.cin];
  const wShape = [s.cout, s.depthwise ? 1 : s.cin, s.k, s.k];
  return {
    name: `${label}: ${s.depthwise ? 'depthwise ' : ''}${s.k}x${s.k} s${s.stride} p${s.pad} ${s.cin}->${s.cout} on ${batch}x${s.h}x${s.w}${s.gelu ? ' +gelu' : ''}`,
    async run(gpu) {
      const seed = s.h * 131 + s.w * 7 + s.cin * 3 + s.cout + s.k;
      const r = s.range ?? 1;
      const x = randomArray(xShape.reduce((a, b) => a * b, 1), seed, -r, r);
      const fanIn = wShape[1] * s.k * s.k;
      const lim = Math.sqrt(3 / fanIn);
      const w = randomArray(wShape.reduce((a, b) => a * b, 1), seed + 1, -lim, lim);
      const bias = randomArray(s.cout, seed + 2, -0.5, 0.5);
      const outShape = conv2dOutputShape(xShape, wShape, opts);
      const n = outShape.reduce((a, b) => a * b, 1);
      const tx = gpu.upload(x, xShape);
      const tw = gpu.upload(w, wShape);
      const tb = gpu.upload(bias, [s.cout]);
      const out = gpu.upload(nanArray(n), outShape);
      conv2d(gpu, tx, tw, tb, opts, out);
      const ref = conv2dRef(x, w, bias, {
        batch, inH: s.h, inW: s.w, cin: s.cin, cout: s.cout, kh: s.k, kw: s.k,
        strideY: s.stride, strideX: s.stride, padY: s.pad, padX: s.pad, groups, activation: opts.activation,
      });
      assertClose('conv2d', await gpu.read(out), ref, TOL, outShape);
      [tx, tw, tb, out].forEach((t) => t.release());
    },
  };
}

export const cases: KernelCase[] = [
  // Odd sizes: partial pixel blocks, partial channel blocks, padding on every border.
  convCase('patch-embed geometry', { h: 37, w: 29, cin: 3, cout: 21, k: 7, stride: 4, pad: 3 }),
  convCase('downsampler geometry', { batch: 2, h: 17, w: 23, cin: 5, cout: 9, k: 3, stride: 2, pad: 1 }),
  convCase('single input channel', { h: 33, w: 45, cin: 1, cout: 4, k: 3, stride: 2, pad: 1, range: 10 }),
  convCase('2x2 stride 2, odd input', { h: 21, w: 19, cin: 1, cout: 4, k: 2, stride: 2, pad: 0 }),
  convCase('2x2 stride 2, 4 -> 16', { batch: 2, h: 14, w: 10, cin: 4, cout: 16, k: 2, stride: 2, pad: 0 }),
  convCase('4x4 stride 4, 1 -> 1', { h: 27, w: 30, cin: 1, cout: 1, k: 4, stride: 4, pad: 0 }),
  convCase('stride 1, fused gelu', { h: 11, w: 13, cin: 5, cout: 7, k: 3, stride: 1, pad: 1, gelu: true }),
  convCase('depthwise odd channels', { h: 13, w: 11, cin: 10, cout: 10, k: 7, stride: 1, pad: 3, depthwise: true }),
  convCase('depthwise batch 2', { batch: 2, h: 9, w: 6, cin: 7, cout: 7, k: 3, stride: 2, pad: 1, depthwise: true }),
  // Real shapes (micro model at S=256, memory encoder of tiny at S=512).
  convCase('micro patch embed', { h: 256, w: 256, cin: 3, cout: 16, k: 7, stride: 4, pad: 3 }),
  convCase('mask downsampler layer 1 at S=256', { h: 256, w: 256, cin: 1, cout: 4, k: 3, stride: 2, pad: 1, range: 10 }),
  convCase('mask downsampler layer 4 (tiny, S=512)', { h: 64, w: 64, cin: 64, cout: 256, k: 3, stride: 2, pad: 1 }),
  convCase('CXBlock dwconv (tiny, S=512)', { h: 32, w: 32, cin: 256, cout: 256, k: 7, stride: 1, pad: 3, depthwise: true }),
];
