// Writes a SAM 2 weights file (safetensors) tensor by tensor: float tensors in the requested
// dtype, selected weights quantized (see QUANT_LAYOUT.md), the config in `__metadata__`. Memory
// stays bounded by the largest tensor; the output appears atomically or not at all.

import { float32ToBfloat16Array, float32ToFloat16Array } from '../src/io/half.js';
import { writeFileAtomically } from '../src/io/node-files.js';
import {
  SafetensorsStreamWriter,
  orderForAlignment,
  planSafetensors,
  type SafetensorsDtype,
} from '../src/io/safetensors.js';
import { configToMetadata, type Sam2Config } from '../src/model/config.js';
import {
  QUANT_METADATA_KEY,
  QUANT_SCALE_SUFFIX,
  makeQuantMetadata,
  quantizationTarget,
  quantizeInt4,
  quantizeInt8,
  type QuantScheme,
} from '../src/weights/quant.js';

/** Float dtype of written weights. */
export type FloatDtype = 'f32' | 'f16' | 'bf16';
export const FLOAT_DTYPES: readonly FloatDtype[] = ['f32', 'f16', 'bf16'];
const SAFETENSORS_DTYPE: Record<FloatDtype, SafetensorsDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

export interface SourceTensor {
  key: string;
  shape: number[];
  /** The values as float32, row-major. */
  read(): Promise<Float32Array>;
}

export interface WeightsWriteOptions {
  dtype: FloatDtype;
  quant?: { scheme: QuantScheme; groupSize: number; minElements: number };
  /** Extra `__metadata__` entries (the config entries are added automatically). */
  metadata?: Record<string, string>;
}

/** What a weights writer wrote. */
export interface WeightsWriteResult {
  /** Tensors written. */
  tensors: number;
  /** Values written. */
  values: number;
  /** File size in bytes. */
  bytes: number;
  /** Keys of the weights stored quantized. */
  quantized: string[];
}

type Part = { kind: 'float' } | { kind: 'qdata' | 'qscale'; rows: number; cols: number };

export async function writeSam2Weights(
  outPath: string,
  config: Sam2Config,
  tensors: readonly SourceTensor[],
  options: WeightsWriteOptions,
): Promise<WeightsWriteResult> {
  const { quant } = options;
  const plan: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; source: SourceTensor; part: Part }> = [];
  const quantized: Record<string, { shape: number[] }> = {};
  let values = 0;
  for (const source of tensors) {
    values += source.shape.reduce((a, b) => a * b, 1);
    const target = quant ? quantizationTarget(source.key, source.shape, quant) : null;
    if (!quant || !target) {
      plan.push({ name: source.key, dtype: SAFETENSORS_DTYPE[options.dtype], shape: source.shape, source, part: { kind: 'float' } });
      continue;
    }
    const { rows, cols } = target;
    quantized[source.key] = { shape: source.shape.slice() };
    const int4 = quant.scheme === 'int4';
    plan.push({ name: source.key, dtype: int4 ? 'U8' : 'I8', shape: [rows, int4 ? cols / 2 : cols], source, part: { kind: 'qdata', rows, cols } });
    plan.push({
      name: source.key + QUANT_SCALE_SUFFIX,
      dtype: 'F32',
      shape: int4 ? [rows, cols / quant.groupSize] : [rows],
      source,
      part: { kind: 'qscale', rows, cols },
    });
  }
  const metadata: Record<string, string> = {
    format: 'sam2-webgpu-weights',
    format_version: '1',
    ...configToMetadata(config),
    dtype: options.dtype,
    ...options.metadata,
  };
  if (quant) metadata[QUANT_METADATA_KEY] = JSON.stringify(makeQuantMetadata(quant.scheme, quant.groupSize, quantized));
  const ordered = orderForAlignment(plan);
  const layout = planSafetensors(ordered, metadata);

  await writeFileAtomically(outPath, async (sink) => {
    const writer = new SafetensorsStreamWriter(layout, sink);
    await writer.writeHeader();
    for (const entry of ordered) {
      const data = await entry.source.read();
      if (data.length !== entry.source.shape.reduce((a, b) => a * b, 1)) {
        throw new Error(`tensor "${entry.source.key}": got ${data.length} values for shape ${JSON.stringify(entry.source.shape)}`);
      }
      await writer.writeTensor(entry.name, encode(entry.source.key, data, entry.part, options));
    }
    writer.finish();
  });
  return { tensors: tensors.length, values, bytes: layout.totalBytes, quantized: Object.keys(quantized) };
}

/**
 * One output tensor's bytes. A quantized weight is quantized again for its second part (data or
 * scales) instead of keeping one part around: deterministic, and memory stays bounded.
 */
function encode(key: string, data: Float32Array, part: Part, options: WeightsWriteOptions): ArrayBufferView {
  if (part.kind !== 'float') {
    const q = options.quant!;
    const result = q.scheme === 'int8' ? quantizeInt8(data, part.rows, part.cols) : quantizeInt4(data, part.rows, part.cols, q.groupSize);
    return part.kind === 'qdata' ? result.data : result.scales;
  }
  if (options.dtype === 'f32') return data;
  const out = options.dtype === 'f16' ? float32ToFloat16Array(data) : float32ToBfloat16Array(data);
  const inf = options.dtype === 'f16' ? 0x7c00 : 0x7f80;
  for (let i = 0; i < out.length; i++) {
    if ((out[i] & 0x7fff) === inf && Number.isFinite(data[i])) {
      throw new Error(`tensor "${key}": value ${data[i]} at index ${i} overflows ${options.dtype}; use --dtype bf16 or f32`);
    }
  }
  return out;
}
