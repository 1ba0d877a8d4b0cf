// Positional-encoding tables (src/kernels/position): constants per image size, built once per
// session, so only their order of magnitude matters. Neck sine PE (256 ch on the F² grid), memory
// sine PE (64 ch), and the decoder's dense random-Fourier PE (256 ch).
import { rffDense, sinePosition } from '../../src/kernels/position/position.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];

export const benches: BenchCase[] = [
  ...atSizes(SIZES, (s) => {
    const f = s / 16;
    return {
      name: `position sine neck ${f}x${f}x256`,
      setup(gpu) {
        const out = gpu.empty([f, f, 256]);
        return { launch: () => sinePosition(gpu, f, f, 256, {}, out), release: () => releaseAll(out) };
      },
    };
  }),
  ...atSizes(SIZES, (s) => {
    const f = s / 16;
    return {
      name: `position rff dense decoder ${f}x${f}x256`,
      setup(gpu) {
        const gauss = randomTensor(gpu, [2, 128], 81);
        const out = gpu.empty([f, f, 256]);
        return { launch: () => rffDense(gpu, gauss, f, f, out), release: () => releaseAll(gauss, out) };
      },
    };
  }),
];
