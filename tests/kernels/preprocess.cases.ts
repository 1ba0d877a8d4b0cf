import { normalizationLut, packBytes, preprocess } from '../../src/kernels/preprocess/preprocess.js';
import { preprocessRef } from '../../src/kernels/preprocess/preprocess.ref.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, rng } from '../helpers/random.js';
import { preprocessSliceRef } from '../../src/volume/preprocess-ref.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

async function runCase(gpu: Gpu, width: number, height: number, channels: 1 | 3, outSize: number, seed: number): Promise<{ got: Float32Array; ref: Float64Array }> {
  const bytes = randomBytes(width * height * channels, seed);
  const words = packBytes(bytes);
  const lutHost = normalizationLut(MEAN, STD);
  const src = gpu.upload(words, [words.length], 'u32');
  const lut = gpu.upload(lutHost, [768]);
  const out = gpu.upload(nanArray(outSize * outSize * 3), [outSize, outSize, 3]);
  preprocess(gpu, src, lut, { width, height, channels, outSize }, out);
  const got = await gpu.read(out);
  [src, lut, out].forEach((t) => t.release());
  return { got, ref: preprocessRef(bytes, width, height, channels, outSize, lutHost) };
}

/** Same size: no interpolation happens, so the result must be bit-exact. */
const exactCase = (side: number, channels: 1 | 3): KernelCase => ({
  name: `no resize ${side}x${side} channels=${channels} (bit-exact)`,
  async run(gpu) {
    const { got, ref } = await runCase(gpu, side, side, channels, side, side * 7 + channels);
    assertClose('preprocess exact', got, ref, { atol: 0 }, [side, side, 3]);
  },
});

/**
 * With a resize the GPU interpolates in float32 and the reference in float64: a pixel whose value
 * lands within float32 rounding of a .5 boundary may round to the neighbouring grey level. Allow
 * one grey level (1/255/std ≈ 0.0175) on at most 0.1 % of the values.
 */
const resizeCase = (width: number, height: number, channels: 1 | 3, outSize: number): KernelCase => ({
  name: `resize ${width}x${height}x${channels} -> ${outSize}`,
  async run(gpu) {
    const { got, ref } = await runCase(gpu, width, height, channels, outSize, width + height + channels);
    assertClose('preprocess resize', got, ref, { atol: 0.018 }, [outSize, outSize, 3]);
    let differing = 0;
    for (let i = 0; i < ref.length; i++) if (got[i] !== ref[i]) differing++;
    if (differing > ref.length * 1e-3) throw new Error(`preprocess resize: ${differing} of ${ref.length} values differ by a grey level`);
  },
});

/** The grey path against the volume pipeline's CPU ground truth (channel-first there). */
const volumeRefCase = (width: number, height: number, outSize: number): KernelCase => ({
  name: `grey ${width}x${height} -> ${outSize} matches src/volume/preprocess-ref`,
  async run(gpu) {
    const bytes = randomBytes(width * height, 11 + width);
    const src = gpu.upload(packBytes(bytes), [Math.ceil(bytes.length / 4)], 'u32');
    const lut = gpu.upload(normalizationLut(MEAN, STD), [768]);
    const out = gpu.upload(nanArray(outSize * outSize * 3), [outSize, outSize, 3]);
    preprocess(gpu, src, lut, { width, height, channels: 1, outSize }, out);
    const hwc = await gpu.read(out);
    [src, lut, out].forEach((t) => t.release());
    const chw = preprocessSliceRef(bytes, width, height, outSize);
    const plane = outSize * outSize;
    const got = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) got[c * plane + p] = hwc[p * 3 + c];
    assertClose('preprocess vs volume ref', got, chw, { atol: 0.018 }, [3, outSize, outSize]);
    let differing = 0;
    for (let i = 0; i < chw.length; i++) if (got[i] !== chw[i]) differing++;
    if (differing > chw.length * 1e-3) throw new Error(`preprocess vs volume ref: ${differing} of ${chw.length} values differ`);
  },
});

export const cases: KernelCase[] = [
  volumeRefCase(64, 64, 64),
  volumeRefCase(97, 80, 128),
  exactCase(37, 1),
  exactCase(29, 3),
  resizeCase(45, 31, 1, 64),
  resizeCase(301, 203, 3, 128),
  resizeCase(512, 512, 1, 1024),
];
