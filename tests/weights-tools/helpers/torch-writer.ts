// Test-only writers for PyTorch-style checkpoints: a tiny protocol-2 pickler that emits the same
// opcode patterns as torch.save (GLOBAL, BINPERSID storages, _rebuild_tensor_v2, OrderedDict),
// and a zip writer for stored entries (optionally forcing zip64 records).

import { crc32 as zlibCrc32 } from 'node:zlib';

/** Emits pickle opcodes. */
export class Pickler {
  private readonly chunks: number[] = [];

  private bytes(...b: number[]): this {
    this.chunks.push(...b);
    return this;
  }

  private u32(n: number): this {
    return this.bytes(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }

  proto(v = 2): this { return this.bytes(0x80, v); }
  stop(): this { return this.bytes(0x2e); }
  mark(): this { return this.bytes(0x28); }
  tuple(): this { return this.bytes(0x74); }
  tuple1(): this { return this.bytes(0x85); }
  emptyTuple(): this { return this.bytes(0x29); }
  emptyDict(): this { return this.bytes(0x7d); }
  emptyList(): this { return this.bytes(0x5d); }
  setitem(): this { return this.bytes(0x73); }
  setitems(): this { return this.bytes(0x75); }
  appends(): this { return this.bytes(0x65); }
  reduce(): this { return this.bytes(0x52); }
  build(): this { return this.bytes(0x62); }
  binpersid(): this { return this.bytes(0x51); }
  none(): this { return this.bytes(0x4e); }
  bool(v: boolean): this { return this.bytes(v ? 0x88 : 0x89); }
  binput(i: number): this { return this.bytes(0x71, i); }
  binget(i: number): this { return this.bytes(0x68, i); }
  raw(...b: number[]): this { return this.bytes(...b); }

  int(n: number): this {
    if (n >= 0 && n < 256) return this.bytes(0x4b, n);
    if (n >= 0 && n < 65536) return this.bytes(0x4d, n & 0xff, n >>> 8);
    return this.bytes(0x4a).u32(n);
  }

  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.bytes(0x58).u32(b.length).bytes(...b);
  }

  global(module: string, name: string): this {
    return this.bytes(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }

  intTuple(values: number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }

  result(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

export interface TensorSpec {
  key: string;
  storageKey: string;
  storageClass: string; // e.g. FloatStorage
  storageNumel: number;
  offset: number;
  shape: number[];
  stride: number[];
  /** Wrap in torch._utils._rebuild_parameter like an nn.Parameter. */
  asParameter?: boolean;
}

export interface StateDictPickleOptions {
  /** Wrap as {"model": state_dict} (Meta's format); otherwise the bare state_dict. */
  wrapModel?: boolean;
  /** Extra top-level entries written before "model": name -> integer value. */
  extraIntEntries?: Record<string, number>;
  /** Append the OrderedDict `_metadata` state via BUILD, as model.state_dict() has. */
  withMetadataState?: boolean;
}

/** A state_dict pickle shaped like torch.save's output (protocol 2). */
export function stateDictPickle(tensors: TensorSpec[], options: StateDictPickleOptions = {}): Uint8Array {
  const p = new Pickler().proto(2);
  if (options.wrapModel) {
    p.emptyDict();
    for (const [k, v] of Object.entries(options.extraIntEntries ?? {})) p.str(k).int(v).setitem();
    p.str('model');
  }
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  p.mark();
  for (const t of tensors) {
    p.str(t.key);
    // nn.Parameter: _rebuild_parameter(_rebuild_tensor_v2(...), requires_grad, backward_hooks)
    if (t.asParameter) p.global('torch._utils', '_rebuild_parameter').mark();
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.mark();
    p.mark().str('storage').global('torch', t.storageClass).str(t.storageKey).str('cpu').int(t.storageNumel).tuple().binpersid();
    p.int(t.offset).intTuple(t.shape).intTuple(t.stride).bool(false);
    p.global('collections', 'OrderedDict').emptyTuple().reduce();
    p.tuple().reduce();
    if (t.asParameter) p.bool(true).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  }
  p.setitems();
  if (options.withMetadataState) {
    // state = {"_metadata": OrderedDict([("", {"version": 1})])}
    p.emptyDict().str('_metadata').global('collections', 'OrderedDict').emptyTuple().reduce();
    p.str('').emptyDict().str('version').int(1).setitem().setitem();
    p.setitem().build();
  }
  if (options.wrapModel) p.setitem();
  return p.stop().result();
}

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Compression method to claim in the headers (the data is stored as given). */
  method?: number;
}

/** Stored (uncompressed) zip archive; `zip64` forces zip64 size/offset fields and records. */
export function writeZip(entries: ZipInput[], options: { zip64?: boolean; comment?: string; alignData?: number } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const enc = new TextEncoder();
  const push = (b: Uint8Array) => {
    parts.push(b);
    offset += b.length;
  };
  for (const e of entries) {
    const name = enc.encode(e.name);
    const crc = zlibCrc32(e.data) >>> 0;
    const localOffset = offset;
    // Pad the local extra field so the data is aligned, like PyTorchStreamWriter (64 bytes).
    const align = options.alignData ?? 64;
    const baseLen = 30 + name.length + 4;
    const pad = (align - ((localOffset + baseLen) % align)) % align;
    const extra = new Uint8Array(4 + pad);
    new DataView(extra.buffer).setUint16(0, 0x4246, true); // "FB", PyTorch's padding id
    new DataView(extra.buffer).setUint16(2, pad, true);
    const local = new Uint8Array(30 + name.length + extra.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, e.method ?? 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extra.length, true);
    local.set(name, 30);
    local.set(extra, 30 + name.length);
    push(local);
    push(e.data);

    const z64 = options.zip64 ? new Uint8Array(4 + 24) : new Uint8Array(0);
    if (options.zip64) {
      const zv = new DataView(z64.buffer);
      zv.setUint16(0, 0x0001, true);
      zv.setUint16(2, 24, true);
      zv.setBigUint64(4, BigInt(e.data.length), true);
      zv.setBigUint64(12, BigInt(e.data.length), true);
      zv.setBigUint64(20, BigInt(localOffset), true);
    }
    const c = new Uint8Array(46 + name.length + z64.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, 45, true);
    cv.setUint16(10, e.method ?? 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, options.zip64 ? 0xffffffff : e.data.length, true);
    cv.setUint32(24, options.zip64 ? 0xffffffff : e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, z64.length, true);
    cv.setUint32(42, options.zip64 ? 0xffffffff : localOffset, true);
    c.set(name, 46);
    c.set(z64, 46 + name.length);
    central.push(c);
  }
  const cdOffset = offset;
  for (const c of central) push(c);
  const cdSize = offset - cdOffset;
  if (options.zip64) {
    const z = new Uint8Array(56);
    const zv = new DataView(z.buffer);
    zv.setUint32(0, 0x06064b50, true);
    zv.setBigUint64(4, 44n, true);
    zv.setUint16(12, 45, true);
    zv.setUint16(14, 45, true);
    zv.setBigUint64(24, BigInt(entries.length), true);
    zv.setBigUint64(32, BigInt(entries.length), true);
    zv.setBigUint64(40, BigInt(cdSize), true);
    zv.setBigUint64(48, BigInt(cdOffset), true);
    const zOffset = offset;
    push(z);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(zOffset), true);
    lv.setUint32(16, 1, true);
    push(loc);
  }
  const comment = enc.encode(options.comment ?? '');
  const eocd = new Uint8Array(22 + comment.length);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, options.zip64 ? 0xffff : entries.length, true);
  ev.setUint16(10, options.zip64 ? 0xffff : entries.length, true);
  ev.setUint32(12, options.zip64 ? 0xffffffff : cdSize, true);
  ev.setUint32(16, options.zip64 ? 0xffffffff : cdOffset, true);
  ev.setUint16(20, comment.length, true);
  eocd.set(comment, 22);
  push(eocd);
  const out = new Uint8Array(offset);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export interface CheckpointInput {
  pickle: Uint8Array;
  storages: Map<string, Uint8Array>;
  prefix?: string;
  byteorder?: 'little' | 'big';
  zip64?: boolean;
}

/** The zip layout torch.save produces: <prefix>/data.pkl, [byteorder], data/<key>..., version. */
export function writeCheckpoint(input: CheckpointInput): Uint8Array {
  const prefix = input.prefix ?? 'archive';
  const enc = new TextEncoder();
  const entries: ZipInput[] = [{ name: `${prefix}/data.pkl`, data: input.pickle }];
  if (input.byteorder) entries.push({ name: `${prefix}/byteorder`, data: enc.encode(input.byteorder) });
  for (const [key, data] of input.storages) entries.push({ name: `${prefix}/data/${key}`, data });
  entries.push({ name: `${prefix}/version`, data: enc.encode('3\n') });
  return writeZip(entries, { zip64: input.zip64 });
}
