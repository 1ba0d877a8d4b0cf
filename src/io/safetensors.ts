// safetensors reader / writer (https://github.com/huggingface/safetensors, format v0.x):
//   [u64 LE header length N][N bytes of UTF-8 JSON header][raw little-endian tensor data]
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative to
// the start of the data) plus an optional "__metadata__" string->string map.
// Validation follows the reference Rust implementation: tensors must tile the data section exactly
// (no gaps, no overlap, nothing left over). Platform-neutral: no Node APIs here (see node-files.ts).
// Typed views assume a little-endian host (every JS engine in practice).

import { bfloat16ToFloat32Array, float16ToFloat32Array } from './half.js';

export type SafetensorsDtype =
  | 'F64' | 'F32' | 'F16' | 'BF16'
  | 'I64' | 'I32' | 'I16' | 'I8'
  | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export const DTYPE_ITEM_SIZE: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

export type TypedTensorData =
  | Float64Array | Float32Array | Uint16Array | Int16Array | Int32Array | Uint32Array
  | Int8Array | Uint8Array | BigInt64Array | BigUint64Array;

export interface TensorDescriptor {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
}

export interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offset from the start of the data section. */
  byteOffset: number;
  byteLength: number;
}

export interface TensorToWrite extends TensorDescriptor {
  /** Raw little-endian bytes, or a typed array whose element size matches the dtype. */
  data: ArrayBufferView;
}

/** The `__metadata__` string map of a safetensors file. */
export type SafetensorsMetadata = Record<string, string>;

/** Header lengths above this are rejected (same bound as the Rust reference: 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** A malformed safetensors file (the message names what is wrong). */
export class SafetensorsError extends Error {
  /** Error name. */
  override name = 'SafetensorsError';
}

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_ITEM_SIZE, value);
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Byte length of the data section, from its first 8 bytes; validates the bound against fileSize. */
export function readHeaderLength(first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first8.length < 8) {
    throw new SafetensorsError(`safetensors: file is ${fileSize} bytes, too short for the 8-byte header length`);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`safetensors: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  }
  const len = Number(n);
  if (len + 8 > fileSize) {
    throw new SafetensorsError(`safetensors: header length ${len} runs past the end of the ${fileSize}-byte file (truncated?)`);
  }
  if (len < 2) throw new SafetensorsError(`safetensors: header length ${len} is too small for a JSON object`);
  return len;
}

export interface ParsedHeader {
  /** Tensors sorted by data offset. */
  tensors: Array<{ name: string } & TensorInfo>;
  metadata: SafetensorsMetadata;
  /** Absolute file offset of the data section (8 + header length). */
  dataOffset: number;
  dataLength: number;
}

/**
 * Validates a header. `headerBytes` is the JSON (without the 8-byte length prefix); `fileSize` is
 * the size of the whole file, so the data section is `fileSize - 8 - headerBytes.length` bytes.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number): ParsedHeader {
  const dataOffset = 8 + headerBytes.length;
  const dataLength = fileSize - dataOffset;
  if (dataLength < 0) throw new SafetensorsError('safetensors: header runs past the end of the file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError('safetensors: header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`safetensors: header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError('safetensors: header JSON is not an object');
  }
  const metadata: SafetensorsMetadata = {};
  const tensors: ParsedHeader['tensors'] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new SafetensorsError('safetensors: "__metadata__" must be an object of strings');
      }
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') {
          throw new SafetensorsError(`safetensors: "__metadata__" value for "${k}" is not a string`);
        }
        metadata[k] = v;
      }
      continue;
    }
    tensors.push({ name, ...validateEntry(name, entry) });
  }
  tensors.sort((a, b) => a.byteOffset - b.byteOffset || a.byteLength - b.byteLength);
  let expected = 0;
  for (const t of tensors) {
    if (t.byteOffset !== expected) {
      const what = t.byteOffset < expected ? 'overlaps the previous tensor' : `leaves a gap (expected begin ${expected})`;
      throw new SafetensorsError(`safetensors: tensor "${t.name}" data_offsets [${t.byteOffset}, ${t.byteOffset + t.byteLength}] ${what}`);
    }
    expected = t.byteOffset + t.byteLength;
    if (expected > dataLength) {
      throw new SafetensorsError(`safetensors: tensor "${t.name}" data ends at ${expected}, past the ${dataLength}-byte data section (truncated file?)`);
    }
  }
  if (expected !== dataLength) {
    throw new SafetensorsError(`safetensors: data section is ${dataLength} bytes but the tensors cover ${expected} (truncated or trailing bytes)`);
  }
  return { tensors, metadata, dataOffset, dataLength };
}

function validateEntry(name: string, entry: unknown): TensorInfo {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new SafetensorsError(`safetensors: entry "${name}" is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isSafetensorsDtype(dtype)) {
    throw new SafetensorsError(`safetensors: tensor "${name}" has unsupported dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`safetensors: tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]
  ) {
    throw new SafetensorsError(`safetensors: tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const numel = elementCount(shape);
  const byteLength = numel * DTYPE_ITEM_SIZE[dtype];
  if (!Number.isSafeInteger(byteLength) || byteLength !== offsets[1] - offsets[0]) {
    throw new SafetensorsError(
      `safetensors: tensor "${name}": shape ${JSON.stringify(shape)} x ${dtype} needs ${byteLength} bytes but data_offsets span ${offsets[1] - offsets[0]}`,
    );
  }
  return { dtype, shape: shape.slice(), byteOffset: offsets[0], byteLength };
}

/** Typed view over `bytes` for a dtype; copies when the bytes are not aligned to the item size. */
export function typedView(dtype: SafetensorsDtype, bytes: Uint8Array): TypedTensorData {
  const size = DTYPE_ITEM_SIZE[dtype];
  const src = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const n = src.byteLength / size;
  const { buffer, byteOffset } = src;
  switch (dtype) {
    case 'F64': return new Float64Array(buffer, byteOffset, n);
    case 'F32': return new Float32Array(buffer, byteOffset, n);
    case 'F16': case 'BF16': case 'U16': return new Uint16Array(buffer, byteOffset, n);
    case 'I16': return new Int16Array(buffer, byteOffset, n);
    case 'I32': return new Int32Array(buffer, byteOffset, n);
    case 'U32': return new Uint32Array(buffer, byteOffset, n);
    case 'I64': return new BigInt64Array(buffer, byteOffset, n);
    case 'U64': return new BigUint64Array(buffer, byteOffset, n);
    case 'I8': return new Int8Array(buffer, byteOffset, n);
    case 'U8': case 'BOOL': return new Uint8Array(buffer, byteOffset, n);
  }
}

/** Converts any numeric tensor to float32 (F16/BF16 exactly, integers by value). */
export function toFloat32(dtype: SafetensorsDtype, data: TypedTensorData): Float32Array {
  switch (dtype) {
    case 'F32': return data as Float32Array;
    case 'F16': return float16ToFloat32Array(data as Uint16Array);
    case 'BF16': return bfloat16ToFloat32Array(data as Uint16Array);
    case 'I64': case 'U64': {
      const src = data as BigInt64Array | BigUint64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    default: return Float32Array.from(data as ArrayLike<number>);
  }
}

/** A parsed safetensors file in memory: tensor names, dtypes, shapes and views of their bytes. */
export class SafetensorsFile {
  /** The file's `__metadata__` (for SAM 2 weights: the config, arch, dtype, provenance). */
  readonly metadata: SafetensorsMetadata;
  private readonly byName = new Map<string, TensorInfo>();
  private readonly order: string[];

  private constructor(private readonly bytes: Uint8Array, readonly header: ParsedHeader) {
    this.metadata = header.metadata;
    this.order = header.tensors.map((t) => t.name);
    for (const { name, ...info } of header.tensors) this.byName.set(name, info);
  }

  /** Parses the header of a whole file held in memory (tensor data stays in `bytes`). */
  static parse(bytes: Uint8Array): SafetensorsFile {
    const len = readHeaderLength(bytes, bytes.byteLength);
    const header = parseSafetensorsHeader(bytes.subarray(8, 8 + len), bytes.byteLength);
    return new SafetensorsFile(bytes, header);
  }

  /** Tensor names in data order. */
  keys(): string[] {
    return this.order.slice();
  }

  /** Whether the file has a tensor of this name. */
  has(key: string): boolean {
    return this.byName.has(key);
  }

  /** dtype, shape and byte range of a tensor; throws naming the key when it is missing. */
  info(key: string): TensorInfo {
    const info = this.byName.get(key);
    if (!info) throw new SafetensorsError(`safetensors: no tensor named "${key}"`);
    return info;
  }

  /** Raw little-endian bytes of a tensor (a view into the file, no copy). */
  bytesOf(key: string): Uint8Array {
    const { byteOffset, byteLength } = this.info(key);
    const start = this.header.dataOffset + byteOffset;
    return this.bytes.subarray(start, start + byteLength);
  }

  /** Typed view: Float32Array for F32, Uint16Array (raw bits) for F16/BF16, etc. */
  get(key: string): TypedTensorData {
    return typedView(this.info(key).dtype, this.bytesOf(key));
  }

  /** Values as float32, converting F16/BF16/integer tensors. */
  getFloat32(key: string): Float32Array {
    return toFloat32(this.info(key).dtype, this.get(key));
  }
}

/** Parses a safetensors file held in memory (see `SafetensorsFile`). */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  return SafetensorsFile.parse(bytes);
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface SafetensorsLayout {
  /** The 8-byte length prefix followed by the space-padded JSON header. */
  headerBytes: Uint8Array;
  entries: Array<TensorDescriptor & { byteOffset: number; byteLength: number }>;
  /** Total file size in bytes. */
  totalBytes: number;
}

/**
 * Lays tensors out in the given order and builds the header. The header is padded with spaces so
 * the data section starts 8-byte aligned; order tensors by decreasing item size
 * (`orderForAlignment`) to keep every tensor aligned to its element size.
 */
export function planSafetensors(
  tensors: readonly TensorDescriptor[],
  metadata?: SafetensorsMetadata,
): SafetensorsLayout {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`safetensors: metadata value for "${k}" is not a string`);
    }
    header.__metadata__ = metadata;
  }
  const entries: SafetensorsLayout['entries'] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__') throw new SafetensorsError('safetensors: "__metadata__" is reserved');
    if (Object.prototype.hasOwnProperty.call(header, t.name)) {
      throw new SafetensorsError(`safetensors: duplicate tensor name "${t.name}"`);
    }
    if (!isSafetensorsDtype(t.dtype)) throw new SafetensorsError(`safetensors: tensor "${t.name}" has unsupported dtype ${t.dtype}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`safetensors: tensor "${t.name}" has an invalid shape ${JSON.stringify(t.shape)}`);
    }
    const byteLength = elementCount(t.shape) * DTYPE_ITEM_SIZE[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape.slice(), data_offsets: [offset, offset + byteLength] };
    entries.push({ name: t.name, dtype: t.dtype, shape: t.shape.slice(), byteOffset: offset, byteLength });
    offset += byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const headerBytes = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(headerBytes.buffer).setBigUint64(0, BigInt(padded), true);
  headerBytes.set(json, 8);
  return { headerBytes, entries, totalBytes: headerBytes.length + offset };
}

/** Stable sort by decreasing element size, so every tensor starts aligned to its element size. */
export function orderForAlignment<T extends { dtype: SafetensorsDtype }>(tensors: readonly T[]): T[] {
  return tensors
    .map((t, i) => ({ t, i }))
    .sort((a, b) => DTYPE_ITEM_SIZE[b.t.dtype] - DTYPE_ITEM_SIZE[a.t.dtype] || a.i - b.i)
    .map(({ t }) => t);
}

export interface ByteSink {
  write(chunk: Uint8Array): void | Promise<void>;
}

function checkTensorBytes(entry: SafetensorsLayout['entries'][number], data: ArrayBufferView): void {
  if (data.byteLength !== entry.byteLength) {
    throw new SafetensorsError(
      `safetensors: tensor "${entry.name}" (${entry.dtype} ${JSON.stringify(entry.shape)}) needs ${entry.byteLength} bytes, got ${data.byteLength}`,
    );
  }
}

function asBytes(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Writes a file tensor by tensor from a precomputed layout, so a large checkpoint never has to
 * be held in memory. Tensors must be written in layout order.
 */
export class SafetensorsStreamWriter {
  private next = 0;
  private started = false;

  constructor(readonly layout: SafetensorsLayout, private readonly sink: ByteSink) {}

  /** Name of the tensor expected next, or undefined when all are written. */
  get pendingName(): string | undefined {
    return this.layout.entries[this.next]?.name;
  }

  async writeHeader(): Promise<void> {
    if (this.started) throw new SafetensorsError('safetensors writer: header already written');
    this.started = true;
    await this.sink.write(this.layout.headerBytes);
  }

  async writeTensor(name: string, data: ArrayBufferView): Promise<void> {
    if (!this.started) await this.writeHeader();
    const entry = this.layout.entries[this.next];
    if (!entry) throw new SafetensorsError(`safetensors writer: unexpected tensor "${name}" (all tensors already written)`);
    if (entry.name !== name) {
      throw new SafetensorsError(`safetensors writer: expected tensor "${entry.name}" next, got "${name}"`);
    }
    checkTensorBytes(entry, data);
    this.next++;
    await this.sink.write(asBytes(data));
  }

  /** Throws unless every tensor of the layout was written. */
  finish(): void {
    if (!this.started) throw new SafetensorsError('safetensors writer: nothing written');
    if (this.next !== this.layout.entries.length) {
      throw new SafetensorsError(`safetensors writer: tensor "${this.layout.entries[this.next].name}" was never written`);
    }
  }
}

/** In-memory serialization (tensors in the given order). */
export function serializeSafetensors(tensors: readonly TensorToWrite[], metadata?: SafetensorsMetadata): Uint8Array {
  const layout = planSafetensors(tensors, metadata);
  const out = new Uint8Array(layout.totalBytes);
  out.set(layout.headerBytes, 0);
  tensors.forEach((t, i) => {
    const entry = layout.entries[i];
    checkTensorBytes(entry, t.data);
    out.set(asBytes(t.data), layout.headerBytes.length + entry.byteOffset);
  });
  return out;
}
