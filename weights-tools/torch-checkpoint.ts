// Reads PyTorch checkpoints (`torch.save` zip format, PyTorch >= 1.6) without executing anything:
// `<prefix>/data.pkl` is interpreted by the restricted unpickler with only the globals that
// tensors and state dicts need (torch.load(weights_only=True) semantics); tensor data stays in
// `<prefix>/data/<key>` and is read on demand, one tensor at a time.
// Upstream reference: torch/serialization.py (_save/_load), torch/_utils.py (_rebuild_tensor_v2).

import type { RandomAccessSource } from '../src/io/node-files.js';
import type { SafetensorsDtype } from '../src/io/safetensors.js';
import { DTYPE_ITEM_SIZE } from '../src/io/safetensors.js';
import { describePickleValue } from './pickle-describe.js';
import { PickleError, PyCallable, PyClassRef, unpickle, type UnpicklerLimits } from './restricted-unpickler.js';
import { ZipArchive } from './zip-reader.js';

/** Legacy typed-storage class names as torch.save writes them. */
const STORAGE_DTYPES: Record<string, SafetensorsDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

export interface StorageRef {
  key: string;
  dtype: SafetensorsDtype;
  /** Elements in the storage. */
  numel: number;
  location: string;
}

export interface TensorRef {
  storage: StorageRef;
  /** In elements. */
  offset: number;
  shape: number[];
  /** In elements. */
  stride: number[];
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

function isIntList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0);
}

/** The allow list: everything else a pickle names is refused. */
function makeGlobals(): Map<string, PyCallable | PyClassRef> {
  const globals = new Map<string, PyCallable | PyClassRef>();
  const fn = (name: string, call: (args: unknown[]) => unknown) => globals.set(name, new PyCallable(name, call));

  fn('torch._utils._rebuild_tensor_v2', (args) => {
    const [storage, offset, size, stride] = args;
    if (args.length < 6 || args.length > 7 || !(storage instanceof StorageHandle) || !Number.isSafeInteger(offset) ||
        (offset as number) < 0 || !isIntList(size) || !isIntList(stride) || size.length !== stride.length) {
      throw new PickleError('pickle: malformed torch._utils._rebuild_tensor_v2 arguments');
    }
    const ref: TensorRef = { storage: storage.ref, offset: offset as number, shape: size.slice(), stride: stride.slice() };
    return new TensorHandle(ref);
  });
  const rebuildParameter = (n: number) => (args: unknown[]) => {
    if (args.length !== n || !(args[0] instanceof TensorHandle)) throw new PickleError('pickle: malformed torch._utils._rebuild_parameter arguments');
    return args[0];
  };
  fn('torch._utils._rebuild_parameter', rebuildParameter(3));
  fn('torch._utils._rebuild_parameter_with_state', rebuildParameter(4));
  fn('collections.OrderedDict', (args) => {
    if (args.length === 0) return new Map();
    if (args.length === 1 && Array.isArray(args[0]) && args[0].every((p) => Array.isArray(p) && p.length === 2)) {
      return new Map(args[0] as Array<[unknown, unknown]>);
    }
    throw new PickleError('pickle: malformed collections.OrderedDict arguments');
  });
  fn('torch.Size', (args) => {
    if (args.length !== 1 || !isIntList(args[0])) throw new PickleError('pickle: malformed torch.Size arguments');
    return (args[0] as number[]).slice();
  });
  // Python 3 bytes pickled at protocol 2 arrive as _codecs.encode(text, 'latin1').
  fn('_codecs.encode', (args) => {
    if (args.length !== 2 || typeof args[0] !== 'string' || (args[1] !== 'latin1' && args[1] !== 'latin-1')) {
      throw new PickleError('pickle: only _codecs.encode(str, "latin1") is allowed');
    }
    return Uint8Array.from(args[0] as string, (c) => c.charCodeAt(0) & 0xff);
  });
  for (const name of Object.keys(STORAGE_DTYPES)) globals.set(`torch.${name}`, new PyClassRef(`torch.${name}`));
  return globals;
}

/** Wrappers keep pickle values distinguishable from plain containers. */
class StorageHandle {
  constructor(readonly ref: StorageRef) {}
}

class TensorHandle {
  constructor(readonly ref: TensorRef) {}
}

export interface TorchCheckpoint {
  archive: ZipArchive;
  /** The archive's top-level folder ("archive", or the file stem for older torch). */
  prefix: string;
  byteOrder: 'little' | 'big';
  /** key -> tensor, in the pickle's order. */
  stateDict: Map<string, TensorRef>;
  /** Where the state dict was found: "model", "state_dict" or "(root)". */
  stateDictPath: string;
  /** Top-level keys of the checkpoint dict (e.g. model, optimizer, epoch). */
  topLevelKeys: string[];
}

function describe(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof Map) return 'a dict';
  if (Array.isArray(value)) return 'a list/tuple';
  if (value instanceof TensorHandle) return 'a tensor';
  return typeof value;
}

/** Finds the state dict: {"model": sd} (Meta's format), {"state_dict": sd}, or a bare sd. */
function locateStateDict(root: unknown): { path: string; dict: Map<unknown, unknown> } {
  if (!(root instanceof Map)) throw new CheckpointError(`checkpoint: top-level object is ${describe(root)}, expected a dict`);
  for (const path of ['model', 'state_dict']) {
    const v = root.get(path);
    if (v instanceof Map) return { path, dict: v };
  }
  if (root.size > 0 && [...root.values()].every((v) => v instanceof TensorHandle)) return { path: '(root)', dict: root };
  const keys = keyNames(root, 10);
  throw new CheckpointError(`checkpoint: no state_dict found (expected {"model": state_dict} or a dict of tensors); top-level keys: ${keys.join(', ')}`);
}

/** The first `max` keys of a dict as text (non-string keys described, bounded). */
function keyNames(dict: Map<unknown, unknown>, max = Infinity): string[] {
  const out: string[] = [];
  for (const k of dict.keys()) {
    if (out.length >= max) break;
    out.push(typeof k === 'string' ? k : describePickleValue(k, 60));
  }
  return out;
}

export async function openTorchCheckpoint(source: RandomAccessSource, limits?: UnpicklerLimits): Promise<TorchCheckpoint> {
  const magic = await source.read(0, Math.min(4, source.size));
  if (magic[0] === 0x80) {
    throw new CheckpointError('checkpoint: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with torch >= 1.6');
  }
  if (magic.length < 4 || magic[0] !== 0x50 || magic[1] !== 0x4b || magic[2] !== 0x03 || magic[3] !== 0x04) {
    throw new CheckpointError('checkpoint: not a PyTorch checkpoint (no zip signature)');
  }
  const archive = await ZipArchive.open(source);
  const pickles = archive.names().filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) {
    throw new CheckpointError(`checkpoint: expected exactly one <prefix>/data.pkl, found ${pickles.length ? pickles.join(', ') : 'none'}`);
  }
  const prefix = pickles[0].slice(0, -'/data.pkl'.length);
  let byteOrder: 'little' | 'big' = 'little';
  if (archive.entry(`${prefix}/byteorder`)) {
    const text = new TextDecoder().decode(await archive.read(`${prefix}/byteorder`)).trim();
    if (text !== 'little' && text !== 'big') throw new CheckpointError(`checkpoint: unknown byteorder "${text}"`);
    byteOrder = text;
  }

  const globals = makeGlobals();
  const storages = new Map<string, StorageHandle>();
  const root = unpickle(await archive.read(pickles[0]), {
    limits,
    resolveGlobal: (module, name) => globals.get(`${module}.${name}`),
    persistentLoad: (pid) => {
      if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
        throw new PickleError(`pickle: unsupported persistent id ${describePickleValue(pid)}`);
      }
      const [, cls, key, location, numel] = pid;
      if (!(cls instanceof PyClassRef) || typeof key !== 'string' || typeof location !== 'string' || !Number.isSafeInteger(numel)) {
        throw new PickleError('pickle: malformed storage persistent id');
      }
      const dtype = STORAGE_DTYPES[cls.qualifiedName.slice('torch.'.length)];
      const existing = storages.get(key);
      if (existing) {
        if (existing.ref.dtype !== dtype) throw new CheckpointError(`checkpoint: storage ${key} is used with two dtypes`);
        return existing;
      }
      const handle = new StorageHandle({ key, dtype, numel: numel as number, location });
      storages.set(key, handle);
      return handle;
    },
    build: (obj) => {
      // OrderedDict state (e.g. a state_dict's `_metadata` of module versions) carries no data.
      if (!(obj instanceof Map)) throw new PickleError(`pickle: BUILD on ${describe(obj)} is not allowed`);
    },
  });

  const { path, dict } = locateStateDict(root);
  const stateDict = new Map<string, TensorRef>();
  for (const [key, value] of dict) {
    if (typeof key !== 'string') throw new CheckpointError(`checkpoint: state_dict key ${describePickleValue(key)} is not a string`);
    if (!(value instanceof TensorHandle)) throw new CheckpointError(`checkpoint: state_dict entry "${key}" is ${describe(value)}, not a tensor`);
    stateDict.set(key, value.ref);
  }
  // DistributedDataParallel wraps every key in "module."
  const keys = [...stateDict.keys()];
  if (keys.length > 0 && keys.every((k) => k.startsWith('module.'))) {
    const stripped = new Map<string, TensorRef>();
    for (const [k, v] of stateDict) stripped.set(k.slice('module.'.length), v);
    stateDict.clear();
    for (const [k, v] of stripped) stateDict.set(k, v);
  }
  // Every storage must exist with the size its persistent id announces.
  for (const { ref } of storages.values()) {
    const name = `${prefix}/data/${ref.key}`;
    const entry = archive.entry(name);
    if (!entry) throw new CheckpointError(`checkpoint: storage file ${name} is missing`);
    const expected = ref.numel * DTYPE_ITEM_SIZE[ref.dtype];
    if (entry.size !== expected) {
      throw new CheckpointError(`checkpoint: storage ${name} has ${entry.size} bytes, expected ${expected} (${ref.numel} x ${ref.dtype})`);
    }
  }
  const topLevelKeys = root instanceof Map ? keyNames(root, 1000) : [];
  return { archive, prefix, byteOrder, stateDict, stateDictPath: path, topLevelKeys };
}

/** Extent check of a strided view inside its storage. */
function viewExtent(key: string, ref: TensorRef): { numel: number; first: number; last: number } {
  const numel = ref.shape.reduce((a, b) => a * b, 1);
  if (numel === 0) return { numel, first: ref.offset, last: ref.offset - 1 };
  // A view with more elements than its storage repeats values (stride 0): a tiny file could then
  // claim a tensor of any size. Weights are never saved that way.
  if (numel > ref.storage.numel) {
    throw new CheckpointError(
      `checkpoint: tensor "${key}" (shape ${JSON.stringify(ref.shape)}) has ${numel} elements but its storage only ${ref.storage.numel}: overlapping or broadcast views are not supported`,
    );
  }
  let last = ref.offset;
  for (let i = 0; i < ref.shape.length; i++) last += (ref.shape[i] - 1) * ref.stride[i];
  if (last >= ref.storage.numel) {
    throw new CheckpointError(
      `checkpoint: tensor "${key}" (shape ${JSON.stringify(ref.shape)}, stride ${JSON.stringify(ref.stride)}, offset ${ref.offset}) reaches element ${last} of a ${ref.storage.numel}-element storage`,
    );
  }
  return { numel, first: ref.offset, last };
}

function isContiguous(ref: TensorRef): boolean {
  let expected = 1;
  for (let i = ref.shape.length - 1; i >= 0; i--) {
    if (ref.shape[i] !== 1 && ref.stride[i] !== expected) return false;
    expected *= ref.shape[i];
  }
  return true;
}

function wordView(bytes: Uint8Array, itemSize: number): Uint8Array | Uint16Array | Uint32Array | BigUint64Array {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (itemSize) {
    case 1: return bytes;
    case 2: return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 4: return new Uint32Array(buffer, byteOffset, byteLength / 4);
    default: return new BigUint64Array(buffer, byteOffset, byteLength / 8);
  }
}

/** Gathers a strided view (indices relative to `base`) into row-major order. */
function gather(span: Uint8Array, base: number, ref: TensorRef, numel: number, itemSize: number): Uint8Array {
  const out = new Uint8Array(numel * itemSize);
  const src = wordView(span, itemSize);
  const dst = wordView(out, itemSize);
  const rank = ref.shape.length;
  const index = new Array<number>(rank).fill(0);
  let srcPos = ref.offset - base;
  for (let i = 0; i < numel; i++) {
    // Same-width element copy (bigint for 8-byte items); the cast only silences the union type.
    (dst as Uint32Array)[i] = (src as Uint32Array)[srcPos] as number;
    // advance the multi-index, last dimension fastest
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < ref.shape[d]) {
        srcPos += ref.stride[d];
        break;
      }
      srcPos -= (ref.shape[d] - 1) * ref.stride[d];
      index[d] = 0;
    }
  }
  return out;
}

function swapBytes(bytes: Uint8Array, itemSize: number): void {
  for (let i = 0; i < bytes.length; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
}

/**
 * A tensor's values as contiguous little-endian bytes (row-major), reading only the part of the
 * storage the view covers. Whole-storage reads are CRC-checked.
 */
export async function readTensorBytes(ckpt: TorchCheckpoint, key: string, ref: TensorRef): Promise<Uint8Array> {
  const itemSize = DTYPE_ITEM_SIZE[ref.storage.dtype];
  const { numel, first, last } = viewExtent(key, ref);
  if (numel === 0) return new Uint8Array(0);
  const entry = `${ckpt.prefix}/data/${ref.storage.key}`;
  const contiguous = isContiguous(ref);
  const wholeStorage = first === 0 && last === ref.storage.numel - 1;
  let span = wholeStorage
    ? await ckpt.archive.read(entry)
    : await ckpt.archive.readRange(entry, first * itemSize, (last - first + 1) * itemSize);
  // Typed views need element alignment, and byte swapping must not touch the source's buffer.
  if (span.byteOffset % itemSize !== 0 || (contiguous && ckpt.byteOrder === 'big')) span = span.slice();
  const out = contiguous ? span : gather(span, first, ref, numel, itemSize);
  if (ckpt.byteOrder === 'big' && itemSize > 1) swapBytes(out, itemSize);
  return out;
}
