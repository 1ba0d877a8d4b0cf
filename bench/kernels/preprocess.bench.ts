// Slice preprocessing (src/kernels/preprocess): a CT slice (512² grey, uint8 after windowing) or an
// RGB frame resized to the model input S×S×3 and normalised.
import { normalizationLut, packBytes, preprocess } from '../../src/kernels/preprocess/preprocess.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomValues, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

function frameCase(s: 512 | 1024, width: number, height: number, channels: 1 | 3) {
  return {
    name: `preprocess ${channels === 1 ? 'grey' : 'rgb'} ${width}x${height} -> ${s}x${s}x3`,
    setup(gpu: Gpu) {
      const bytes = Uint8Array.from(randomValues(width * height * channels, 31, 0, 256), Math.floor);
      const words = packBytes(bytes);
      const src = gpu.upload(words, [words.length], 'u32', 'image bytes');
      const lut = gpu.upload(normalizationLut(MEAN, STD), [768]);
      const out = gpu.empty([s, s, 3]);
      const shape = { width, height, channels, outSize: s };
      return { launch: () => preprocess(gpu, src, lut, shape, out), release: () => releaseAll(src, lut, out) };
    },
  };
}

export const benches: BenchCase[] = [
  ...atSizes(SIZES, (s) => frameCase(s, 512, 512, 1)),
  ...atSizes(SIZES, (s) => frameCase(s, 1920, 1080, 3)),
];
