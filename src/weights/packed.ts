// A weight matrix in the compact form the GPU keeps it in: one array of 32-bit words holding the
// payload (f32, f16, bf16, int8 or int4 values in row-major [rows, cols] order) followed, for the
// integer formats, by the f32 scales. Kernels read it through the dequantizing weight-load seam
// (src/kernels/packed-weight/packed-weight.wgsl.ts); the layout is specified in
// weights-tools/QUANT_LAYOUT.md ("On the GPU"). `unpackMatrix` is the CPU reference of that seam:
// it decodes the same words, so kernel tests compare against exactly what the GPU reads.
import { bf16BitsToF32Bits, f16BitsToF32Bits, float32ToBfloat16Array, float32ToFloat16Array, float32FromBits } from '../io/half.js';
import { checkGroupSize, quantizeInt4, quantizeInt8, type ScaleMethod } from './quant.js';

export type WeightFormat = 'f32' | 'f16' | 'bf16' | 'int8' | 'int4';

export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'bf16', 'int8', 'int4'];

export interface PackedMatrix {
  format: WeightFormat;
  rows: number;
  cols: number;
  /** Elements sharing one scale, counted along the flattened matrix: cols (int8), G (int4), 0 (floats). */
  group: number;
  /** Word index of the first scale (int8/int4), else the payload length. */
  scaleOffset: number;
  words: Uint32Array;
}

export interface PackOptions {
  /** int4 group size (32, 64 or 128). */
  groupSize?: number;
  method?: ScaleMethod;
}

/** Payload words of `n` elements of `bits` bits each. */
function payloadWords(n: number, bits: number): number {
  return Math.ceil((n * bits) / 32);
}

function fromBytes(bytes: Uint8Array, scales: Float32Array | null, payload: number): { words: Uint32Array; scaleOffset: number } {
  const words = new Uint32Array(payload + (scales?.length ?? 0));
  new Uint8Array(words.buffer, 0, bytes.byteLength).set(bytes);
  if (scales) new Float32Array(words.buffer, payload * 4, scales.length).set(scales);
  return { words, scaleOffset: payload };
}

/** Bits per element of a format's payload. */
export function formatBits(format: WeightFormat): number {
  return { f32: 32, f16: 16, bf16: 16, int8: 8, int4: 4 }[format];
}

/** Packs int8 data (per-row scales) or int4 nibbles (per-group scales) as they come from a file. */
export function packQuantized(format: 'int8' | 'int4', data: Int8Array | Uint8Array, scales: Float32Array, rows: number, cols: number, groupSize?: number): PackedMatrix {
  const n = rows * cols;
  if (format === 'int8') {
    if (data.length !== n || scales.length !== rows) throw new Error(`packQuantized: int8 data ${data.length} / scales ${scales.length} do not fit ${rows}x${cols}`);
    const { words, scaleOffset } = fromBytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), scales, payloadWords(n, 8));
    return { format, rows, cols, group: cols, scaleOffset, words };
  }
  const g = groupSize ?? 0;
  checkGroupSize(g);
  if (cols % g !== 0 || data.length * 2 !== n || scales.length * g !== n) {
    throw new Error(`packQuantized: int4 data ${data.length} B / scales ${scales.length} do not fit ${rows}x${cols} with group ${g}`);
  }
  const { words, scaleOffset } = fromBytes(data as Uint8Array, scales, payloadWords(n, 4));
  return { format, rows, cols, group: g, scaleOffset, words };
}

/** Packs a float32 [rows, cols] matrix into `format` (quantizing for int8/int4). */
export function packMatrix(w: Float32Array, rows: number, cols: number, format: WeightFormat, opts: PackOptions = {}): PackedMatrix {
  const n = rows * cols;
  if (w.length !== n) throw new Error(`packMatrix: ${w.length} values for a ${rows}x${cols} matrix`);
  switch (format) {
    case 'f32':
      return { format, rows, cols, group: 0, scaleOffset: n, words: new Uint32Array(Float32Array.from(w).buffer) };
    case 'f16':
    case 'bf16': {
      const half = format === 'f16' ? float32ToFloat16Array(w) : float32ToBfloat16Array(w);
      const { words } = fromBytes(new Uint8Array(half.buffer, half.byteOffset, half.byteLength), null, payloadWords(n, 16));
      return { format, rows, cols, group: 0, scaleOffset: words.length, words };
    }
    case 'int8': {
      const { data, scales } = quantizeInt8(w, rows, cols, opts.method);
      return packQuantized('int8', data, scales, rows, cols);
    }
    case 'int4': {
      const g = opts.groupSize ?? 64;
      const { data, scales } = quantizeInt4(w, rows, cols, g, opts.method);
      return packQuantized('int4', data, scales, rows, cols, g);
    }
  }
}

/** Element i of the flattened matrix, decoded exactly as the WGSL seam does (the kernels' CPU reference). */
export function unpackMatrix(p: PackedMatrix): Float32Array {
  const n = p.rows * p.cols;
  const out = new Float32Array(n);
  const w = p.words;
  const scale = (i: number): number => float32FromBits(w[p.scaleOffset + Math.floor(i / p.group)]);
  for (let i = 0; i < n; i++) {
    switch (p.format) {
      case 'f32':
        out[i] = float32FromBits(w[i]);
        break;
      case 'f16':
        out[i] = float32FromBits(f16BitsToF32Bits((w[i >>> 1] >>> (16 * (i & 1))) & 0xffff));
        break;
      case 'bf16':
        out[i] = float32FromBits(bf16BitsToF32Bits((w[i >>> 1] >>> (16 * (i & 1))) & 0xffff));
        break;
      case 'int8':
        out[i] = (((w[i >>> 2] >>> (8 * (i & 3))) << 24) >> 24) * scale(i);
        break;
      case 'int4':
        out[i] = (((w[i >>> 3] >>> (4 * (i & 7))) & 0xf) - 8) * scale(i);
        break;
    }
  }
  return out;
}

/** Bytes the packed matrix occupies (payload + scales). */
export function packedBytes(p: PackedMatrix): number {
  return p.words.byteLength;
}
