// Checkpoint tensors on the GPU, addressed by their official state_dict names. A `WeightScope`
// is a prefix view (like candle's `vb.pp("...")`), so model files name weights exactly as the
// upstream module attributes: `scope.tensor('attn.qkv.bias')`, `scope.matrix('attn.qkv.weight')`.
// Matrix weights are kept in the reading component's weight format (precision.ts) — packed
// f16/bf16/int8/int4 stay packed on the GPU — and float tensors in its activation type.
import type { SafetensorsFile } from '../io/safetensors.js';
import { assertFinite } from '../io/finite.js';
import type { FloatDType } from '../kernels/cast/cast.js';
import { PackedWeight, type WeightOperand } from '../kernels/packed-weight/packed-weight.js';
import type { Gpu } from '../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../runtime/tensor.js';
import { packMatrix, packQuantized, type PackedMatrix, type WeightFormat } from '../weights/packed.js';
import { DEFAULT_MIN_QUANT_ELEMENTS, QUANT_SCALE_SUFFIX, readQuantMetadata, readWeightFloat32 } from '../weights/quant.js';
import { uploadFloat } from './layers/upload-float.js';
import { F32_PRECISION, type ComponentPrecision } from './precision.js';
import { chooseMatrixFormat, storedWeight, type FormatChoice, type StoredWeight } from './weight-format.js';

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

export interface WeightStoreOptions {
  /** Matrices smaller than this stay float under int8/int4 precisions (ModelPrecision.minQuantElements). */
  minQuantElements?: number;
}

/** GPU bytes of the uploaded weights, by storage format (`f32`, `f16`, `bf16`, `int8`, `int4`). */
export type WeightBytes = Record<string, number>;

export class WeightStore {
  /** Uploaded weights: float tensors under `key@dtype`, packed matrices under `key#format`. */
  private readonly entries = new Map<string, GpuTensor | PackedWeight>();
  private readonly quant: ReturnType<typeof readQuantMetadata>;
  /** Uploads postponed by `deferUploads`, by the layer that asked (null outside it). */
  private deferred: Map<object, () => void> | null = null;
  readonly minQuantElements: number;

  constructor(
    readonly gpu: Gpu,
    readonly file: SafetensorsFile,
    opts: WeightStoreOptions = {},
  ) {
    this.quant = readQuantMetadata(file.metadata);
    this.minQuantElements = opts.minQuantElements ?? DEFAULT_MIN_QUANT_ELEMENTS;
  }

  has(key: string): boolean {
    return this.file.has(key);
  }

  /** Logical shape (a quantized weight's original shape, not its packed storage). */
  shape(key: string): number[] {
    if (!this.file.has(key)) throw new WeightError(`weights: missing tensor ${key}`);
    return this.quant?.tensors[key]?.shape.slice() ?? this.file.info(key).shape;
  }

  /** Host copy as float32: f16/bf16 are widened and int8/int4 weights dequantized here. */
  host(key: string): Float32Array {
    if (!this.file.has(key)) throw new WeightError(`weights: missing tensor ${key}`);
    const values = readWeightFloat32(this.file, key);
    // One NaN or Inf weight turns every output into NaN (masks silently empty): refuse the file.
    assertFinite(values, (count, first) =>
      new WeightError(`weights: tensor ${key} has ${count} NaN/Inf value${count === 1 ? '' : 's'} (first at index ${first}); the weights file is corrupt`),
    );
    return values;
  }

  /**
   * The tensor on the GPU as floats of `dtype` (uploaded once per dtype), optionally checked
   * against an expected shape. Norms, biases, embeddings and tables come through here.
   */
  tensor(key: string, expectShape?: readonly number[], dtype: FloatDType = 'f32'): GpuTensor {
    const t = this.floatEntry(`${key}@${dtype}`, () => ({ data: this.host(key), shape: this.shape(key) }), dtype, key);
    if (expectShape && (t.shape.length !== expectShape.length || t.shape.some((d, i) => d !== expectShape[i]))) {
      throw new WeightError(`weights: ${key} has shape ${shapeStr(t.shape)}, expected ${shapeStr(expectShape)}`);
    }
    return t;
  }

  /**
   * A matrix weight (Linear / 1×1 conv [out, in(, 1, 1)], or a dense conv filter [out, in, kh, kw])
   * in the format `precision` gives it (weight-format.ts): a float tensor of the activation type,
   * or a PackedWeight that the GEMM / conv seam dequantizes in registers.
   */
  matrix(key: string, precision: ComponentPrecision = F32_PRECISION): WeightOperand {
    const shape = this.shape(key);
    const stored = storedWeight(this.file.info(key).dtype, key, this.quant);
    return this.matrixEntry(key, shape, stored, precision, () => this.host(key), (choice) =>
      choice.reuseStored ? this.storedPacked(key, shape, choice.format as 'int8' | 'int4') : null,
    );
  }

  /**
   * The GPU format `matrix(key, precision)` gives, read from the file's metadata without uploading:
   * equal to `precision.activations` for a plain float tensor of that type, else a packed format.
   */
  matrixFormat(key: string, precision: ComponentPrecision = F32_PRECISION): WeightFormat {
    const shape = this.shape(key);
    const stored = storedWeight(this.file.info(key).dtype, key, this.quant);
    return chooseMatrixFormat(shape[0], shape.slice(1).reduce((a, b) => a * b, 1), stored, precision, this.minQuantElements).format;
  }

  /**
   * Runs `build` with layer uploads (`uploadSoon`) postponed to its end, so that a fused path built
   * inside can take layers over (`cancelUpload`) before their own copies reach the GPU. The layers
   * not taken over upload when `build` returns, as if built outside it.
   */
  deferUploads<T>(build: () => T): T {
    if (this.deferred) return build(); // nested: the outer call uploads
    const pending = new Map<object, () => void>();
    this.deferred = pending;
    let built: T;
    try {
      built = build();
    } finally {
      this.deferred = null;
    }
    for (const upload of pending.values()) upload();
    return built;
  }

  /** Runs `owner`'s `upload` now, or at the end of the enclosing `deferUploads`. */
  uploadSoon(owner: object, upload: () => void): void {
    if (this.deferred) this.deferred.set(owner, upload);
    else upload();
  }

  /** Drops `owner`'s postponed upload (a fused path carries its weights); its first use would still upload. */
  cancelUpload(owner: object): void {
    this.deferred?.delete(owner);
  }

  /** Whether any GPU copy of the stored tensor `key` (float or packed, any format) is uploaded. */
  isUploaded(key: string): boolean {
    // Entry ids are `key@dtype` (float) and `key#format…` (packed).
    return [...this.entries.keys()].some((id) => id.startsWith(key) && (id[key.length] === '@' || id[key.length] === '#'));
  }

  /** Uploads a derived tensor once under a private name (e.g. a transposed or folded weight). */
  derived(name: string, make: () => { data: Float32Array; shape: number[] }, dtype: FloatDType = 'f32'): GpuTensor {
    return this.floatEntry(`${name}@${dtype}`, make, dtype, name);
  }

  /**
   * A derived matrix weight (a layer scale folded in, projections concatenated or composed), in
   * the format the stored key `like` gets; its shape is the made one.
   */
  derivedMatrix(name: string, like: string, make: () => { data: Float32Array; shape: number[] }, precision: ComponentPrecision = F32_PRECISION): WeightOperand {
    const stored = storedWeight(this.file.info(like).dtype, like, this.quant);
    let made: { data: Float32Array; shape: number[] } | null = null;
    const get = () => (made ??= make());
    return this.matrixEntry(name, get().shape, stored, precision, () => get().data, () => null);
  }

  private floatEntry(id: string, make: () => { data: Float32Array; shape: readonly number[] }, dtype: FloatDType, label: string): GpuTensor {
    let t = this.entries.get(id) as GpuTensor | undefined;
    if (!t) {
      const { data, shape } = make();
      t = uploadFloat(this.gpu, data, shape, dtype, label);
      this.entries.set(id, t);
    }
    return t;
  }

  private matrixEntry(
    key: string,
    shape: number[],
    stored: StoredWeight,
    precision: ComponentPrecision,
    host: () => Float32Array,
    reuse: (choice: FormatChoice) => PackedMatrix | null,
  ): WeightOperand {
    const rows = shape[0];
    const cols = shape.slice(1).reduce((a, b) => a * b, 1);
    const choice = chooseMatrixFormat(rows, cols, stored, precision, this.minQuantElements);
    if (choice.format === precision.activations) {
      return this.floatEntry(`${key}@${choice.format}`, () => ({ data: host(), shape }), choice.format, key);
    }
    const id = `${key}#${choice.format}${choice.groupSize ? `-g${choice.groupSize}` : ''}${choice.method === 'mse' ? '-mse' : ''}`;
    let w = this.entries.get(id) as PackedWeight | undefined;
    if (!w) {
      const m = reuse(choice) ?? packMatrix(host(), rows, cols, choice.format, { groupSize: choice.groupSize, method: choice.method });
      w = PackedWeight.upload(this.gpu, m, shape, key);
      this.entries.set(id, w);
    }
    return w;
  }

  /** The file's int8 / int4 bytes and scales of a quantized key, packed without requantizing. */
  private storedPacked(key: string, shape: number[], scheme: 'int8' | 'int4'): PackedMatrix {
    const rows = shape[0];
    const cols = shape.slice(1).reduce((a, b) => a * b, 1);
    const scales = this.file.get(key + QUANT_SCALE_SUFFIX);
    if (!(scales instanceof Float32Array)) throw new WeightError(`quantized weight "${key}": scale tensor must be F32`);
    const data = this.file.get(key) as Int8Array | Uint8Array;
    return packQuantized(scheme, data, scales, rows, cols, this.quant!.group_size ?? undefined);
  }

  scope(prefix: string, precision: ComponentPrecision = F32_PRECISION): WeightScope {
    return new WeightScope(this, prefix, precision);
  }

  /** Bytes of weights uploaded so far. */
  get uploadedBytes(): number {
    let n = 0;
    for (const t of this.entries.values()) n += t.byteLength;
    return n;
  }

  /** Uploaded bytes by storage format. */
  bytesByFormat(): WeightBytes {
    const out: WeightBytes = {};
    for (const t of this.entries.values()) {
      const f = t instanceof PackedWeight ? t.format : t.dtype;
      out[f] = (out[f] ?? 0) + t.byteLength;
    }
    return out;
  }

  release(): void {
    for (const t of this.entries.values()) t.release();
    this.entries.clear();
  }
}

/**
 * A prefix view of the store (like candle's `vb.pp("...")`) with the precision of the component
 * that reads it: `tensor()` gives floats of the component's activation type, `matrix()` a matrix
 * weight in its weight format.
 */
export class WeightScope {
  constructor(
    readonly store: WeightStore,
    readonly prefix: string,
    readonly precision: ComponentPrecision = F32_PRECISION,
  ) {}

  /** Storage type of this component's activations (and of the float tensors `tensor()` gives). */
  get activations(): FloatDType {
    return this.precision.activations;
  }

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
    return this.store.tensor(this.key(name), expectShape, this.activations);
  }

  matrix(name: string): WeightOperand {
    return this.store.matrix(this.key(name), this.precision);
  }

  /** The format `matrix(name)` gives, without uploading (the activation type for a plain float tensor). */
  matrixFormat(name: string): WeightFormat {
    return this.store.matrixFormat(this.key(name), this.precision);
  }

  host(name: string): Float32Array {
    return this.store.host(this.key(name));
  }

  derived(name: string, make: () => { data: Float32Array; shape: number[] }): GpuTensor {
    return this.store.derived(this.key(name), make, this.activations);
  }

  derivedMatrix(name: string, like: string, make: () => { data: Float32Array; shape: number[] }): WeightOperand {
    return this.store.derivedMatrix(this.key(name), this.key(like), make, this.precision);
  }

  scope(sub: string): WeightScope {
    return new WeightScope(this.store, this.key(sub), this.precision);
  }

  /** The same prefix read by a component of another precision. */
  withPrecision(precision: ComponentPrecision): WeightScope {
    return new WeightScope(this.store, this.prefix, precision);
  }

  /** The same prefix and weight formats with other activations (e.g. an f32 head inside an f16 component). */
  withActivations(activations: FloatDType): WeightScope {
    return new WeightScope(this.store, this.prefix, { ...this.precision, activations });
  }
}
