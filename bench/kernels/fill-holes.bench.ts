// fill_hole_area (src/kernels/fill-holes): connected components of the low-res mask background and
// the fill, four passes over (4F)² pixels per object; 1 and 4 objects in one call.
import { fillHolesInto } from '../../src/kernels/fill-holes/fill-holes.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];

export const benches: BenchCase[] = [1, 4].flatMap((objects) =>
  atSizes(SIZES, (s) => {
    const side = s / 4;
    return {
      name: `fill-holes area 8, ${objects} object${objects > 1 ? 's' : ''} ${side}x${side}`,
      setup(gpu) {
        // Half background, scattered: many small components and a few long ones.
        const logits = randomTensor(gpu, [objects, side, side], 51, -1, 1);
        const out = gpu.empty([objects, side, side]);
        const parent = gpu.empty([objects * side * side], 'u32');
        const count = gpu.empty([objects * side * side], 'u32');
        return {
          launch: () => fillHolesInto(gpu, { src: logits, out, parent, count, maxArea: 8 }),
          release: () => releaseAll(logits, out, parent, count),
        };
      },
    };
  }),
);
