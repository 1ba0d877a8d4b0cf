// Weight-only quantization of Linear / 1x1-conv weights, and CPU dequantization.
// The on-disk layout is specified in weights-tools/QUANT_LAYOUT.md (keep the two in sync):
//   int8: per output row, symmetric: q = clamp(round(w / s), -127, 127), s = max|w_row| / 127
//         `<key>` I8 [rows, cols], `<key>.__scale` F32 [rows]
//   int4: per group of `groupSize` consecutive inputs of a row, symmetric:
//         q = clamp(round(w / s), -7, 7), s = max|w_group| / 7, stored as the nibble q + 8,
//         two per byte, even element in the low nibble;
//         `<key>` U8 [rows, cols / 2], `<key>.__scale` F32 [rows, cols / groupSize]
// Rounding is half away from zero, against the float32-rounded scale (so dequantization
// w' = q * s is within s/2 of w). The metadata entry `sam2_quant` lists the quantized keys.
// Scales: `absmax` (the calibration-free baseline: s = max|w| / Q) or `mse` (post-training
// clipping: s = α·max|w| / Q with α ∈ {1, 0.98, …, 0.5} chosen per block to minimise the block's
// squared reconstruction error; clipping the rare large weights buys a finer step for the rest).

import type { SafetensorsFile } from '../io/safetensors.js';

export type QuantScheme = 'int8' | 'int4';

export const QUANT_METADATA_KEY = 'sam2_quant';
export const QUANT_SCALE_SUFFIX = '.__scale';
export const INT4_GROUP_SIZES = [32, 64, 128] as const;
export const DEFAULT_INT4_GROUP_SIZE = 64;
/** Smaller weights stay in float: they save little and carry heads/pointers that are sensitive. */
export const DEFAULT_MIN_QUANT_ELEMENTS = 16384;

export interface QuantMetadata {
  format: 'sam2-webgpu-quant';
  version: 1;
  scheme: QuantScheme;
  /** int4 only (null for int8, whose group is the whole row). */
  group_size: number | null;
  scale_suffix: typeof QUANT_SCALE_SUFFIX;
  /** Quantized keys with their original (logical) shapes. */
  tensors: Record<string, { shape: number[] }>;
}

/** How a block's scale is chosen (see the header). */
export type ScaleMethod = 'absmax' | 'mse';

/** Clip ratios tried by the `mse` method, largest first (ties keep the larger, i.e. less clipping). */
export const MSE_CLIP_RATIOS: readonly number[] = Array.from({ length: 26 }, (_, i) => 1 - 0.02 * i);

export interface QuantOptions {
  scheme: QuantScheme;
  /** int4 group size along the input dimension (32, 64 or 128). */
  groupSize?: number;
  minElements?: number;
}

/** nn.Embedding tables are 2-D `.weight`s too, but are looked up by row, not multiplied. */
const EMBEDDING_KEY = /(_token|_tokens|_embed|point_embeddings\.\d+)\.weight$/;

/**
 * The [rows, cols] matrix view of a weight that the quantizer handles (2-D Linear weights and
 * 1x1 Conv2d weights [out, in, 1, 1]), or null when the tensor stays in float.
 */
export function quantizationTarget(key: string, shape: readonly number[], options: QuantOptions): { rows: number; cols: number } | null {
  if (!key.endsWith('.weight') || EMBEDDING_KEY.test(key)) return null;
  const is2d = shape.length === 2;
  const is1x1 = shape.length === 4 && shape[2] === 1 && shape[3] === 1;
  if (!is2d && !is1x1) return null;
  const [rows, cols] = shape;
  if (rows * cols < (options.minElements ?? DEFAULT_MIN_QUANT_ELEMENTS)) return null;
  if (options.scheme === 'int4' && cols % (options.groupSize ?? DEFAULT_INT4_GROUP_SIZE) !== 0) return null;
  return { rows, cols };
}

export function checkGroupSize(groupSize: number): void {
  if (!(INT4_GROUP_SIZES as readonly number[]).includes(groupSize)) {
    throw new Error(`int4 group size must be one of ${INT4_GROUP_SIZES.join(', ')}, got ${groupSize}`);
  }
}

function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/** Squared reconstruction error of one block quantized with scale s (0 for s = 0 means all-zero q). */
function blockError(w: Float32Array, start: number, end: number, s: number, qmax: number): number {
  let e = 0;
  for (let i = start; i < end; i++) {
    const v = roundHalfAway(w[i] / s);
    const q = v > qmax ? qmax : v < -qmax ? -qmax : v;
    const d = w[i] - Math.fround(q * s);
    e += d * d;
  }
  return e;
}

/** Quantizes blocks of `block` consecutive values with one symmetric scale each. */
function quantizeBlocks(w: Float32Array, block: number, qmax: number, method: ScaleMethod = 'absmax'): { q: Int8Array; scales: Float32Array } {
  if (w.length % block !== 0) throw new Error(`quantize: ${w.length} values are not a multiple of the block ${block}`);
  const q = new Int8Array(w.length);
  const scales = new Float32Array(w.length / block);
  for (let b = 0; b < scales.length; b++) {
    const start = b * block;
    let maxAbs = 0;
    for (let i = start; i < start + block; i++) {
      const a = Math.abs(w[i]);
      if (a > maxAbs) maxAbs = a;
      else if (Number.isNaN(a)) throw new Error(`quantize: NaN at element ${i}`);
    }
    if (!Number.isFinite(maxAbs)) throw new Error(`quantize: non-finite value in block ${b}`);
    let s = Math.fround(maxAbs / qmax);
    if (method === 'mse' && s > 0) {
      let best = blockError(w, start, start + block, s, qmax);
      for (const ratio of MSE_CLIP_RATIOS.slice(1)) {
        const c = Math.fround((ratio * maxAbs) / qmax);
        if (c === 0) break;
        const e = blockError(w, start, start + block, c, qmax);
        if (e < best) [best, s] = [e, c];
      }
    }
    scales[b] = s;
    if (s === 0) continue;
    for (let i = start; i < start + block; i++) {
      const v = roundHalfAway(w[i] / s);
      q[i] = v > qmax ? qmax : v < -qmax ? -qmax : v;
    }
  }
  return { q, scales };
}

/** int8, one scale per row. */
export function quantizeInt8(w: Float32Array, rows: number, cols: number, method: ScaleMethod = 'absmax'): { data: Int8Array; scales: Float32Array } {
  if (w.length !== rows * cols) throw new Error(`quantizeInt8: ${w.length} values for a ${rows}x${cols} matrix`);
  const { q, scales } = quantizeBlocks(w, cols, 127, method);
  return { data: q, scales };
}

export function dequantizeInt8(data: Int8Array, scales: Float32Array, rows: number, cols: number): Float32Array {
  if (data.length !== rows * cols || scales.length !== rows) throw new Error(`dequantizeInt8: sizes do not match ${rows}x${cols}`);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = scales[r];
    for (let c = r * cols; c < (r + 1) * cols; c++) out[c] = data[c] * s;
  }
  return out;
}

/** int4, one scale per group of `groupSize` inputs; nibbles q + 8, even element in the low nibble. */
export function quantizeInt4(w: Float32Array, rows: number, cols: number, groupSize: number, method: ScaleMethod = 'absmax'): { data: Uint8Array; scales: Float32Array } {
  checkGroupSize(groupSize);
  if (w.length !== rows * cols) throw new Error(`quantizeInt4: ${w.length} values for a ${rows}x${cols} matrix`);
  if (cols % groupSize !== 0) throw new Error(`quantizeInt4: ${cols} columns are not a multiple of the group size ${groupSize}`);
  const { q, scales } = quantizeBlocks(w, groupSize, 7, method);
  const data = new Uint8Array(w.length / 2);
  for (let i = 0; i < data.length; i++) data[i] = (q[2 * i] + 8) | ((q[2 * i + 1] + 8) << 4);
  return { data, scales };
}

export function dequantizeInt4(data: Uint8Array, scales: Float32Array, rows: number, cols: number, groupSize: number): Float32Array {
  if (data.length * 2 !== rows * cols || scales.length * groupSize !== rows * cols) {
    throw new Error(`dequantizeInt4: sizes do not match ${rows}x${cols} with group ${groupSize}`);
  }
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    const s = scales[Math.floor((2 * i) / groupSize)];
    out[2 * i] = ((byte & 0xf) - 8) * s;
    out[2 * i + 1] = ((byte >>> 4) - 8) * s;
  }
  return out;
}

export function makeQuantMetadata(scheme: QuantScheme, groupSize: number | null, tensors: Record<string, { shape: number[] }>): QuantMetadata {
  return { format: 'sam2-webgpu-quant', version: 1, scheme, group_size: scheme === 'int4' ? groupSize : null, scale_suffix: QUANT_SCALE_SUFFIX, tensors };
}

/** The quantization description of a weights file, or undefined for a float file. */
export function readQuantMetadata(metadata: Record<string, string>): QuantMetadata | undefined {
  const text = metadata[QUANT_METADATA_KEY];
  if (text === undefined) return undefined;
  let q: QuantMetadata;
  try {
    q = JSON.parse(text);
  } catch {
    throw new Error(`metadata "${QUANT_METADATA_KEY}" is not valid JSON`);
  }
  if (q?.format !== 'sam2-webgpu-quant' || q.version !== 1 || (q.scheme !== 'int8' && q.scheme !== 'int4') ||
      q.scale_suffix !== QUANT_SCALE_SUFFIX || typeof q.tensors !== 'object' || q.tensors === null) {
    throw new Error(`metadata "${QUANT_METADATA_KEY}" has an unsupported format`);
  }
  if (q.scheme === 'int4') checkGroupSize(q.group_size as number);
  return q;
}

/** Logical tensors of a (possibly quantized) weights file: keys without scale entries, original shapes. */
export function logicalTensors(file: SafetensorsFile): Array<{ key: string; shape: number[]; quantized: boolean }> {
  const quant = readQuantMetadata(file.metadata);
  const out: Array<{ key: string; shape: number[]; quantized: boolean }> = [];
  for (const key of file.keys()) {
    const q = quant?.tensors[key];
    if (quant && key.endsWith(QUANT_SCALE_SUFFIX) && quant.tensors[key.slice(0, -QUANT_SCALE_SUFFIX.length)]) continue;
    out.push({ key, shape: q ? q.shape.slice() : file.info(key).shape, quantized: q !== undefined });
  }
  return out;
}

/** A weight as float32 in its original shape, dequantizing when the file says it is quantized. */
export function readWeightFloat32(file: SafetensorsFile, key: string): Float32Array {
  const quant = readQuantMetadata(file.metadata);
  const q = quant?.tensors[key];
  if (!quant || !q) return file.getFloat32(key);
  const rows = q.shape[0];
  const cols = q.shape.slice(1).reduce((a, b) => a * b, 1);
  const scales = file.get(key + QUANT_SCALE_SUFFIX);
  if (!(scales instanceof Float32Array)) throw new Error(`quantized weight "${key}": scale tensor must be F32`);
  const info = file.info(key);
  if (quant.scheme === 'int8') {
    if (info.dtype !== 'I8') throw new Error(`quantized weight "${key}": expected I8 data, got ${info.dtype}`);
    return dequantizeInt8(file.get(key) as Int8Array, scales, rows, cols);
  }
  if (info.dtype !== 'U8') throw new Error(`quantized weight "${key}": expected U8 data, got ${info.dtype}`);
  return dequantizeInt4(file.get(key) as Uint8Array, scales, rows, cols, quant.group_size!);
}
