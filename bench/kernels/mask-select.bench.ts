// Mask selection: the GPU decisions (src/kernels/decisions `decide`: the dynamic-stability counts
// over mask 0 of the 4 low-res candidates, (4F)² each, argmax IoU and presence, one workgroup per
// object; 1 and 4 objects in one call) and the copy of the chosen mask out of the stack.
import { decide, flagStride } from '../../src/kernels/decisions/decisions.js';
import { copyRange } from '../../src/kernels/mask-select/mask-select.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];

export const benches: BenchCase[] = [
  ...[1, 4].flatMap((objects) =>
    atSizes(SIZES, (s) => {
      const side = s / 4;
      return {
        name: `decisions decide (stability counts) ${objects} object${objects > 1 ? 's' : ''} ${side}x${side}`,
        setup(gpu) {
          const logits = randomTensor(gpu, [objects, 4, side, side], 41, -5, 5);
          const iou = randomTensor(gpu, [objects, 4], 42);
          const score = randomTensor(gpu, [objects, 1], 43);
          const flags = gpu.empty([objects, flagStride(4)], 'u32', 'flags');
          const opts = { mode: 'dynamic' as const, delta: 0.05, thresh: 0.98, predObjScores: true, multimaskToken: true, softNoObjPtr: false };
          return { launch: () => decide(gpu, logits, iou, score, opts, flags), release: () => releaseAll(logits, iou, score, flags) };
        },
      };
    }),
  ),
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
