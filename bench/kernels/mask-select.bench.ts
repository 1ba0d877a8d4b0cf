// Mask selection helpers (src/kernels/mask-select): the dynamic-stability counts over the 4 low-res
// mask logits, (4F)² each, done by one workgroup, and the copy of the chosen mask out of the stack.
import { copyRange, maskStats } from '../../src/kernels/mask-select/mask-select.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];

export const benches: BenchCase[] = [
  ...atSizes(SIZES, (s) => {
    const side = s / 4;
    return {
      name: `mask-select stability counts ${side}x${side}`,
      setup(gpu) {
        const logits = randomTensor(gpu, [4, side, side], 41, -5, 5);
        const iou = randomTensor(gpu, [4], 42);
        const score = randomTensor(gpu, [1], 43);
        const out = gpu.empty([2 + 4 + 1], 'u32', 'mask-stats');
        const args = { map: logits, mapOffset: 0, mapCount: side * side, hi: 0.05, lo: -0.05, a: iou, b: score };
        return { launch: () => maskStats(gpu, args, out), release: () => releaseAll(logits, iou, score, out) };
      },
    };
  }),
  ...atSizes(SIZES, (s) => {
    const side = s / 4;
    return {
      name: `mask-select copy chosen mask ${side}x${side}`,
      setup(gpu) {
        const logits = randomTensor(gpu, [4, side, side], 44);
        const out = gpu.empty([side, side]);
        return {
          launch: () => copyRange(gpu, logits, out, { srcOffset: 2 * side * side }),
          release: () => releaseAll(logits, out),
        };
      },
    };
  }),
];
