// Checkpoint tensors on the GPU, addressed by their official state_dict names. A `WeightScope`
// is a prefix view (like candle's `vb.pp("...")`), so model files name weights exactly as the
// upstream module attributes: `scope.tensor('attn.qkv.weight')`.
import type { SafetensorsFile } from '../io/safetensors.js';
import { assertFinite } from '../io/finite.js';
import { readQuantMetadata, readWeightFloat32 } from '../weights/quant.js';
import type { Gpu } from '../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../runtime/tensor.js';

export interface ExpectedTensor {
  key: string;
  shape: readonly number[];
}

export class WeightError extends Error {
  override name = 'WeightError';
}

/**
 * Checks a checkpoint against the keys and shapes a configuration needs. Every problem is listed,
 * each naming its key, so a converted or fine-tuned checkpoint with renamed layers is easy to fix.
 * Quantization side tensors (`<key>.__*`) are allowed beside their weights.
 */
export function validateCheckpoint(file: SafetensorsFile, expected: readonly ExpectedTensor[], what = 'checkpoint'): void {
  const problems: string[] = [];
  const quant = readQuantMetadata(file.metadata);
  const want = new Map(expected.map((e) => [e.key, e.shape]));
  for (const { key, shape } of expected) {
    if (!file.has(key)) {
      problems.push(`missing tensor ${key} ${shapeStr(shape)}`);
      continue;
    }
    const got = quant?.tensors[key]?.shape ?? file.info(key).shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      problems.push(`tensor ${key} has shape ${shapeStr(got)}, expected ${shapeStr(shape)}`);
    }
  }
  for (const key of file.keys()) {
    const base = key.replace(/\.__\w+$/, '');
    if (!want.has(base)) problems.push(`unexpected tensor ${key}`);
  }
  if (problems.length) {
    const shown = problems.slice(0, 20).join('\n  ');
    const more = problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : '';
    throw new WeightError(`${what} does not match the model configuration:\n  ${shown}${more}`);
  }
}

export class WeightStore {
  private readonly gpuTensors = new Map<string, GpuTensor>();
  private readonly quant: ReturnType<typeof readQuantMetadata>;

  constructor(
    readonly gpu: Gpu,
    readonly file: SafetensorsFile,
  ) {
    this.quant = readQuantMetadata(file.metadata);
  }

  has(key: string): boolean {
    return this.file.has(key);
  }

  /** Logical shape (a quantized weight's original shape, not its packed storage). */
  shape(key: string): number[] {
    if (!this.file.has(key)) throw new WeightError(`weights: missing tensor ${key}`);
    return this.quant?.tensors[key]?.shape.slice() ?? this.file.info(key).shape;
  }

  /**
   * Host copy as float32: f16/bf16 are widened and int8/int4 weights dequantized here, so every
   * stored precision runs on the f32 kernels (the kernels' own low-precision paths come later).
   */
  host(key: string): Float32Array {
    if (!this.file.has(key)) throw new WeightError(`weights: missing tensor ${key}`);
    const values = readWeightFloat32(this.file, key);
    // One NaN or Inf weight turns every output into NaN (masks silently empty): refuse the file.
    assertFinite(values, (count, first) =>
      new WeightError(`weights: tensor ${key} has ${count} NaN/Inf value${count === 1 ? '' : 's'} (first at index ${first}); the weights file is corrupt`),
    );
    return values;
  }

  /** The tensor on the GPU (uploaded once, as f32), optionally checked against an expected shape. */
  tensor(key: string, expectShape?: readonly number[]): GpuTensor {
    let t = this.gpuTensors.get(key);
    if (!t) {
      const shape = this.shape(key);
      t = this.gpu.upload(this.host(key), shape, 'f32', key);
      this.gpuTensors.set(key, t);
    }
    if (expectShape && (t.shape.length !== expectShape.length || t.shape.some((d, i) => d !== expectShape[i]))) {
      throw new WeightError(`weights: ${key} has shape ${shapeStr(t.shape)}, expected ${shapeStr(expectShape)}`);
    }
    return t;
  }

  /** Uploads a derived tensor once under a private name (e.g. a transposed or folded weight). */
  derived(name: string, make: () => { data: Float32Array; shape: number[] }): GpuTensor {
    let t = this.gpuTensors.get(name);
    if (!t) {
      const { data, shape } = make();
      t = this.gpu.upload(data, shape, 'f32', name);
      this.gpuTensors.set(name, t);
    }
    return t;
  }

  scope(prefix: string): WeightScope {
    return new WeightScope(this, prefix);
  }

  /** Bytes of weights uploaded so far. */
  get uploadedBytes(): number {
    let n = 0;
    for (const t of this.gpuTensors.values()) n += t.byteLength;
    return n;
  }

  release(): void {
    for (const t of this.gpuTensors.values()) t.release();
    this.gpuTensors.clear();
  }
}

export class WeightScope {
  constructor(
    readonly store: WeightStore,
    readonly prefix: string,
  ) {}

  key(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  has(name: string): boolean {
    return this.store.has(this.key(name));
  }

  shape(name: string): number[] {
    return this.store.shape(this.key(name));
  }

  tensor(name: string, expectShape?: readonly number[]): GpuTensor {
    return this.store.tensor(this.key(name), expectShape);
  }

  host(name: string): Float32Array {
    return this.store.host(this.key(name));
  }

  derived(name: string, make: () => { data: Float32Array; shape: number[] }): GpuTensor {
    return this.store.derived(this.key(name), make);
  }

  scope(sub: string): WeightScope {
    return new WeightScope(this.store, this.key(sub));
  }
}
