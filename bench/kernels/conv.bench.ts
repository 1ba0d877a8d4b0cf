// Convolutions (src/kernels/conv) at sam2.1 hiera-t shapes: the Hiera patch embedding, the memory
// encoder's mask downsampler and depthwise 7×7 fuser, and the mask decoder's 2×2 transposed convs
// (with their fused high-res skip adds). SAM2_INFERENCE.md §2.2.1, §2.7, §2.9.
import { conv2d, conv2dOutputShape, type Conv2dOptions } from '../../src/kernels/conv/conv.js';
import { convTranspose2x2, convTranspose2x2OutputShape } from '../../src/kernels/conv/conv-transpose.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];

function convSetup(gpu: Gpu, xShape: number[], wShape: number[], opts: Conv2dOptions) {
  const x = randomTensor(gpu, xShape, 51);
  const w = randomTensor(gpu, wShape, 52, -0.2, 0.2);
  const b = randomTensor(gpu, [wShape[0]], 53);
  const out = gpu.empty(conv2dOutputShape(xShape, wShape, opts));
  return { launch: () => conv2d(gpu, x, w, b, opts, out), release: () => releaseAll(x, w, b, out) };
}

function convTransposeSetup(gpu: Gpu, xShape: number[], wShape: number[]) {
  const x = randomTensor(gpu, xShape, 54);
  const w = randomTensor(gpu, wShape, 55, -0.2, 0.2);
  const b = randomTensor(gpu, [wShape[1]], 56);
  const outShape = convTranspose2x2OutputShape(xShape, wShape);
  const skip = randomTensor(gpu, outShape, 57);
  const out = gpu.empty(outShape);
  return { launch: () => convTranspose2x2(gpu, x, w, b, skip, out), release: () => releaseAll(x, w, b, skip, out) };
}

/** Mask downsampler stage k (1..4): k3 s2 p1, channels 1 → 4 → 16 → 64 → 256, input side S / 2^(k-1). */
const DOWNSAMPLER = [
  [1, 4],
  [4, 16],
  [16, 64],
  [64, 256],
] as const;

export const benches: BenchCase[] = [
  ...atSizes(SIZES, (s) => ({
    name: `conv hiera-t patch embed ${s}x${s}x3 k7s4 -> ${s / 4}x${s / 4}x96`,
    setup: (gpu) => convSetup(gpu, [s, s, 3], [96, 3, 7, 7], { stride: 4, padding: 3 }),
  })),
  ...DOWNSAMPLER.flatMap(([cin, cout], k) =>
    atSizes(SIZES, (s) => {
      const side = s >> k;
      return {
        name: `conv mem-enc downsampler${k + 1} ${side}x${side}x${cin} k3s2 -> ${side / 2}x${side / 2}x${cout}`,
        setup: (gpu) => convSetup(gpu, [side, side, cin], [cout, cin, 3, 3], { stride: 2, padding: 1 }),
      };
    }),
  ),
  ...atSizes(SIZES, (s) => {
    const f = s / 16;
    return {
      name: `conv mem-enc fuser depthwise7x7 ${f}x${f}x256`,
      setup: (gpu) => convSetup(gpu, [f, f, 256], [256, 1, 7, 7], { padding: 3, groups: 256 }),
    };
  }),
  ...atSizes(SIZES, (s) => {
    const f = s / 16;
    return {
      name: `conv-transpose decoder upscale1 ${f}x${f}x256 -> ${2 * f}x${2 * f}x64 +skip`,
      setup: (gpu) => convTransposeSetup(gpu, [f, f, 256], [256, 64, 2, 2]),
    };
  }),
  ...atSizes(SIZES, (s) => {
    const f = s / 16;
    return {
      name: `conv-transpose decoder upscale0 ${2 * f}x${2 * f}x64 -> ${4 * f}x${4 * f}x32 +skip`,
      setup: (gpu) => convTransposeSetup(gpu, [2 * f, 2 * f, 64], [64, 32, 2, 2]),
    };
  }),
];
