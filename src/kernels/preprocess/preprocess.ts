// Launcher for the slice preprocessing kernel (resize + normalise, see preprocess.wgsl.ts).
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { preprocessSource } from './preprocess.wgsl.js';

const WG = 256;

export interface PreprocessShape {
  /** Input image size and channel count (1 = grey, replicated to RGB; 3 = RGB interleaved). */
  width: number;
  height: number;
  channels: 1 | 3;
  /** Output side S: the model input is [S, S, 3]. */
  outSize: number;
}

/**
 * src: the input's uint8 values packed little-endian into u32 words (pixel-major, channels
 * interleaved); lut: [3 · 256] f32 normalised value of every uint8 per output channel;
 * out: [S, S, 3].
 */
export function preprocessProgram(src: GpuTensor, lut: GpuTensor, out: GpuTensor, s: PreprocessShape): KernelProgram {
  const name = `preprocess-bilinear-${out.dtype}`;
  const { width, height, channels, outSize } = s;
  for (const [n, v] of [['width', width], ['height', height], ['outSize', outSize]] as const) {
    check(Number.isInteger(v) && v >= 1, name, `${n} must be a positive integer, got ${v}`);
  }
  check(channels === 1 || channels === 3, name, `channels must be 1 or 3, got ${channels}`);
  check(src.dtype === 'u32', name, `src must be u32 words of packed uint8, got ${src.dtype}`);
  check(src.size * 4 >= width * height * channels, name, `src ${shapeStr(src.shape)} holds ${src.size * 4} bytes, ${width}×${height}×${channels} needs ${width * height * channels}`);
  check(lut.dtype === 'f32' && lut.size === 3 * 256, name, `lut must be f32 [768], got ${lut.dtype} ${shapeStr(lut.shape)}`);
  check(out.size === outSize * outSize * 3, name, `out ${shapeStr(out.shape)} is not [${outSize}, ${outSize}, 3]`);
  const n = outSize * outSize;
  return {
    name,
    source: () => preprocessSource(out.dtype),
    constants: { WG },
    bindings: [src, lut, out],
    uniforms: uniforms([
      ['u32', width], ['u32', height], ['u32', outSize], ['u32', outSize],
      ['u32', channels], ['f32', width / outSize], ['f32', height / outSize], ['u32', 0],
    ]),
    workgroups: dispatch1d(n, WG),
    flops: n * 3 * 8,
    bytes: n * 3 * 4 + width * height * channels,
  };
}

export function preprocess(gpu: Gpu, src: GpuTensor, lut: GpuTensor, s: PreprocessShape, out?: GpuTensor): GpuTensor {
  const o = out ?? gpu.empty([s.outSize, s.outSize, 3], 'f32', 'preprocessed image');
  gpu.run(preprocessProgram(src, lut, o, s));
  return o;
}

/** Packs uint8 values into u32 words (little-endian, zero-padded to a whole word). */
export function packBytes(bytes: Uint8Array): Uint32Array {
  const padded = new Uint8Array(Math.max(4, Math.ceil(bytes.length / 4) * 4));
  padded.set(bytes);
  return new Uint32Array(padded.buffer);
}

/**
 * The [3 · 256] lookup table of normalised values: entry c·256 + u is
 * f32(f32(f32(u / 255) - mean[c]) / std[c]) with u/255 computed in float64 first (SAM 2's frame
 * loader). JS doubles round each step exactly like the float32 ops they emulate (a difference
 * of two float32 is exact in float64, and double rounding of a float32 quotient is innocuous).
 */
export function normalizationLut(mean: readonly number[], std: readonly number[]): Float32Array {
  if (mean.length !== 3 || std.length !== 3) throw new Error(`normalizationLut: mean and std need 3 channels, got ${mean.length} and ${std.length}`);
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c]);
    const sd = Math.fround(std[c]);
    for (let u = 0; u < 256; u++) {
      const x = Math.fround(u / 255);
      lut[c * 256 + u] = Math.fround(Math.fround(x - m) / sd);
    }
  }
  return lut;
}
