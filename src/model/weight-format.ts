// Which GPU format a matrix weight (Linear / 1×1 conv, or a dense conv filter viewed as
// [Cout, Cin·kh·kw]) gets under a component's precision, and whether the file's quantized bytes can
// be reused as they are. Pure: the WeightStore applies the decision (see precision.ts for the rules).
import type { WeightFormat } from '../weights/packed.js';
import type { QuantMetadata, ScaleMethod } from '../weights/quant.js';
import { quantOf, type ComponentPrecision } from './precision.js';

/** How a tensor is stored in the file. */
export interface StoredWeight {
  /** Safetensors dtype of the tensor (the payload's, for quantized keys). */
  dtype: string;
  /** Scheme and group when the file quantized it. */
  quant: { scheme: 'int8' | 'int4'; groupSize: number | null } | null;
}

export interface FormatChoice {
  format: WeightFormat;
  /** int4 group size. */
  groupSize?: number;
  method: ScaleMethod;
  /** The file already holds exactly this packing (int8 / int4 bytes + f32 scales): upload as is. */
  reuseStored: boolean;
}

export function storedWeight(dtype: string, key: string, quant: QuantMetadata | undefined): StoredWeight {
  const q = quant?.tensors[key] ? { scheme: quant.scheme, groupSize: quant.group_size } : null;
  return { dtype, quant: q };
}

function floatFormat(dtype: string): WeightFormat {
  return dtype === 'F16' ? 'f16' : dtype === 'BF16' ? 'bf16' : 'f32';
}

/** The format of a [rows, cols] matrix weight stored as `stored` under `precision`. */
export function chooseMatrixFormat(rows: number, cols: number, stored: StoredWeight, precision: ComponentPrecision, minQuantElements: number): FormatChoice {
  const w = precision.weights;
  const plain = (format: WeightFormat): FormatChoice => ({ format, method: 'absmax', reuseStored: false });
  if (w === 'stored') {
    if (stored.quant) return { format: stored.quant.scheme, groupSize: stored.quant.groupSize ?? undefined, method: 'absmax', reuseStored: true };
    return plain(floatFormat(stored.dtype));
  }
  if (w === 'f32' || w === 'f16' || w === 'bf16') return plain(w);
  const q = quantOf(w)!;
  // Small matrices stay float (of the activation type): they save little and hold sensitive heads.
  if (rows * cols < minQuantElements) return plain(precision.activations);
  let scheme = q.scheme;
  let groupSize = q.groupSize ?? undefined;
  if (scheme === 'int4' && cols % groupSize! !== 0) [scheme, groupSize] = ['int8', undefined];
  const reuseStored =
    q.method === 'absmax' && stored.quant !== null && stored.quant.scheme === scheme && (scheme === 'int8' || stored.quant.groupSize === groupSize);
  return { format: scheme, groupSize, method: q.method, reuseStored };
}
