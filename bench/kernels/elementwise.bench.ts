// Elementwise kernels at the tensor sizes SAM 2 (hiera-t) applies them to. Bandwidth-bound: read GB/s.
import { binary, unary } from '../../src/kernels/elementwise/elementwise.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];

export const benches: BenchCase[] = [
  // GELU on the stage-1 MLP hidden layer: (S/4)² tokens × 4·96 channels.
  ...atSizes(SIZES, (s) => {
    const n = (s / 4) ** 2 * 384;
    return {
      name: `elementwise gelu hiera-t stage1 mlp hidden ${(s / 4) ** 2}x384`,
      setup(gpu) {
        const x = randomTensor(gpu, [n], 1, -4, 4);
        const y = gpu.empty([n]);
        return { launch: () => unary(gpu, 'gelu', x, y), release: () => releaseAll(x, y) };
      },
    };
  }),
  // Residual add on the stage-1 token map: (S/4)² × 96.
  ...atSizes(SIZES, (s) => {
    const n = (s / 4) ** 2 * 96;
    return {
      name: `elementwise add hiera-t stage1 residual ${(s / 4) ** 2}x96`,
      setup(gpu) {
        const a = randomTensor(gpu, [n], 2);
        const b = randomTensor(gpu, [n], 3);
        const y = gpu.empty([n]);
        return { launch: () => binary(gpu, 'add', a, b, y), release: () => releaseAll(a, b, y) };
      },
    };
  }),
  // Per-channel bias broadcast on the memory-attention tokens: F² × 256 + [256].
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2 * 256;
    return {
      name: `elementwise add-broadcast mem-attn tokens ${(s / 16) ** 2}x256+256`,
      setup(gpu) {
        const a = randomTensor(gpu, [n], 4);
        const b = randomTensor(gpu, [256], 5);
        const y = gpu.empty([n]);
        return { launch: () => binary(gpu, 'add', a, b, y), release: () => releaseAll(a, b, y) };
      },
    };
  }),
  // sigmoid of the high-res mask before the memory encoder: S².
  ...atSizes(SIZES, (s) => ({
    name: `elementwise sigmoid high-res mask ${s}x${s}`,
    setup(gpu) {
      const x = randomTensor(gpu, [s * s], 6, -20, 20);
      const y = gpu.empty([s * s]);
      return { launch: () => unary(gpu, 'sigmoid', x, y, 1, 0), release: () => releaseAll(x, y) };
    },
  })),
];
