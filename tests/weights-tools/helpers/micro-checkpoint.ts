// Builds micro-model checkpoints (synthetic weights) in torch.save's format for convert tests,
// optionally with the storage layouts real checkpoints can have: shared storages at offsets,
// transposed / channels-last / sliced (non-contiguous) views, f16/bf16/f64 storages, Parameters.

import { float32ToBfloat16Array, float32ToFloat16Array, bfloat16ToFloat32Array, float16ToFloat32Array } from '../../../src/io/half.js';
import { makeConfig, type Sam2Config } from '../../../src/model/config.js';
import { synthesizeWeights } from '../../../src/weights/synthetic.js';
import { stateDictPickle, writeCheckpoint, type TensorSpec } from './torch-writer.js';

export interface WeightEntry {
  key: string;
  shape: number[];
  data: Float32Array;
}

export interface MicroCheckpointOptions {
  config?: Sam2Config;
  /** Edit the state dict (drop / rename / reshape entries) before it is written. */
  transform?: (entries: WeightEntry[]) => WeightEntry[];
  tricky?: boolean;
  byteorder?: 'little' | 'big';
  zip64?: boolean;
  wrapModel?: boolean;
}

const rowMajorStrides = (shape: number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function swap(bytes: Uint8Array, itemSize: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i += itemSize) out.subarray(i, i + itemSize).reverse();
  return out;
}

/** The checkpoint bytes and the float32 values a correct converter must output per key. */
export function microCheckpoint(options: MicroCheckpointOptions = {}): { bytes: Uint8Array; expected: Map<string, Float32Array> } {
  let entries: WeightEntry[] = [...synthesizeWeights(options.config ?? makeConfig('micro'))].map(([key, v]) => ({ key, ...v }));
  if (options.transform) entries = options.transform(entries);
  const specs: TensorSpec[] = [];
  const storages = new Map<string, { bytes: Uint8Array; itemSize: number }>();
  const expected = new Map<string, Float32Array>();
  const addStorage = (bytes: Uint8Array, itemSize: number) => {
    const key = String(storages.size);
    storages.set(key, { bytes, itemSize });
    return key;
  };
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const tricky = options.tricky ?? false;
  const done = new Set<string>();

  if (tricky && byKey.has('no_mem_embed') && byKey.has('no_mem_pos_enc')) {
    // Two tensors in one storage at offsets 10 and 74, with unused elements around them.
    const a = byKey.get('no_mem_embed')!;
    const b = byKey.get('no_mem_pos_enc')!;
    const storage = new Float32Array(150).fill(-7);
    storage.set(a.data, 10);
    storage.set(b.data, 74);
    const key = addStorage(bytesOf(storage), 4);
    for (const [e, offset] of [[a, 10], [b, 74]] as const) {
      specs.push({ key: e.key, storageKey: key, storageClass: 'FloatStorage', storageNumel: 150, offset, shape: e.shape, stride: rowMajorStrides(e.shape) });
      expected.set(e.key, e.data);
      done.add(e.key);
    }
  }

  entries.forEach((e, i) => {
    if (done.has(e.key)) return;
    expected.set(e.key, e.data);
    const asParameter = tricky && i % 2 === 1;
    const spec = (storageKey: string, storageClass: string, storageNumel: number, offset: number, stride: number[]) =>
      specs.push({ key: e.key, storageKey, storageClass, storageNumel, offset, shape: e.shape, stride, asParameter });
    if (tricky && e.key === 'image_encoder.trunk.blocks.0.attn.qkv.weight') {
      // stored transposed: W = storage.view(16, 48).t()
      const [rows, cols] = e.shape;
      const t = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = e.data[r * cols + c];
      spec(addStorage(bytesOf(t), 4), 'FloatStorage', t.length, 0, [1, rows]);
    } else if (tricky && e.key === 'image_encoder.trunk.patch_embed.proj.weight') {
      // channels_last memory format: strides [H*W*C, 1, W*C, C]
      const [n, c, h, w] = e.shape;
      const t = new Float32Array(e.data.length);
      for (let a = 0; a < n; a++) for (let b = 0; b < c; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        t[a * h * w * c + y * w * c + x * c + b] = e.data[((a * c + b) * h + y) * w + x];
      }
      spec(addStorage(bytesOf(t), 4), 'FloatStorage', t.length, 0, [h * w * c, 1, w * c, c]);
    } else if (tricky && e.key === 'obj_ptr_tpos_proj.weight') {
      // a column slice of a wider matrix: storage [rows, cols + 16], view [:, 8:8+cols]
      const [rows, cols] = e.shape;
      const wide = cols + 16;
      const t = new Float32Array(rows * wide).fill(99);
      for (let r = 0; r < rows; r++) t.set(e.data.subarray(r * cols, (r + 1) * cols), r * wide + 8);
      spec(addStorage(bytesOf(t), 4), 'FloatStorage', t.length, 8, [wide, 1]);
    } else if (tricky && e.key === 'sam_mask_decoder.mask_tokens.weight') {
      const h = float32ToFloat16Array(e.data);
      expected.set(e.key, float16ToFloat32Array(h));
      spec(addStorage(bytesOf(h), 2), 'HalfStorage', h.length, 0, rowMajorStrides(e.shape));
    } else if (tricky && e.key === 'sam_prompt_encoder.no_mask_embed.weight') {
      const b = float32ToBfloat16Array(e.data);
      expected.set(e.key, bfloat16ToFloat32Array(b));
      spec(addStorage(bytesOf(b), 2), 'BFloat16Storage', b.length, 0, rowMajorStrides(e.shape));
    } else if (tricky && e.key === 'memory_attention.norm.weight') {
      const d = Float64Array.from(e.data);
      spec(addStorage(bytesOf(d), 8), 'DoubleStorage', d.length, 0, rowMajorStrides(e.shape));
    } else {
      spec(addStorage(bytesOf(e.data), 4), 'FloatStorage', e.data.length, 0, rowMajorStrides(e.shape));
    }
  });

  const pickle = stateDictPickle(specs, {
    wrapModel: options.wrapModel ?? true,
    extraIntEntries: tricky ? { epoch: 12 } : undefined,
    withMetadataState: tricky,
  });
  const big = options.byteorder === 'big';
  const storageBytes = new Map([...storages].map(([k, s]) => [k, big ? swap(s.bytes, s.itemSize) : s.bytes]));
  const bytes = writeCheckpoint({ pickle, storages: storageBytes, byteorder: options.byteorder, zip64: options.zip64 });
  return { bytes, expected };
}
