// Resizes (src/kernels/resize) as SAM 2 uses them (hiera-t): low-res mask logits upsampled to the
// image, mask prompts downsampled with antialiasing, Hiera's bicubic background position embedding,
// and the FPN top-down nearest-2× + lateral add.
import { nearestUp2, resize, type ResizeMode } from '../../src/kernels/resize/resize.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];

function resizeSetup(gpu: Gpu, mode: ResizeMode, inShape: number[], outShape: number[]) {
  const x = randomTensor(gpu, inShape, 61, -10, 10);
  const out = gpu.empty(outShape);
  const size: [number, number] = [outShape[outShape.length - 3], outShape[outShape.length - 2]];
  return { launch: () => resize(gpu, mode, x, size, out), release: () => releaseAll(x, out) };
}

export const benches: BenchCase[] = [
  // The 4 candidate low-res masks → S×S (high-res masks for the memory encoder), bilinear.
  ...atSizes(SIZES, (s) => ({
    name: `resize bilinear mask logits 4x${s / 4}x${s / 4} -> 4x${s}x${s}`,
    setup: (gpu) => resizeSetup(gpu, 'bilinear', [4, s / 4, s / 4, 1], [4, s, s, 1]),
  })),
  // A user mask prompt at image size → 4F×4F, bilinear with antialias.
  ...atSizes(SIZES, (s) => ({
    name: `resize bilinear-aa mask prompt ${s}x${s} -> ${s / 4}x${s / 4}`,
    setup: (gpu) => resizeSetup(gpu, 'bilinear-aa', [s, s, 1], [s / 4, s / 4, 1]),
  })),
  // Hiera background position embedding 7×7×96 → (S/4)², bicubic (once per image size).
  ...atSizes(SIZES, (s) => ({
    name: `resize bicubic hiera-t pos_embed 7x7x96 -> ${s / 4}x${s / 4}x96`,
    setup: (gpu) => resizeSetup(gpu, 'bicubic', [7, 7, 96], [s / 4, s / 4, 96]),
  })),
  // FPN level 2 = lateral + nearest_up2(level 3): (F/2)² × 256 → F² × 256.
  ...atSizes(SIZES, (s) => {
    const f = s / 16;
    return {
      name: `resize nearest2x+lateral fpn ${f / 2}x${f / 2}x256 -> ${f}x${f}x256`,
      setup(gpu) {
        const x = randomTensor(gpu, [f / 2, f / 2, 256], 62);
        const lateral = randomTensor(gpu, [f, f, 256], 63);
        const out = gpu.empty([f, f, 256]);
        return { launch: () => nearestUp2(gpu, x, lateral, out), release: () => releaseAll(x, lateral, out) };
      },
    };
  }),
];
