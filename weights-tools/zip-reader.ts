// Minimal ZIP reader for PyTorch checkpoints (torch.save's zip container, written by
// caffe2's PyTorchStreamWriter: stored entries, 64-byte aligned data, zip64 when large).
// Reads only the central directory up front; entry data is read on demand from a
// RandomAccessSource, so multi-GB checkpoints are never loaded whole.

import type { RandomAccessSource } from '../src/io/node-files.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate, ... */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export class ZipError extends Error {
  override name = 'ZipError';
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

function u64(view: DataView, offset: number): number {
  const v = view.getBigUint64(offset, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('zip: 64-bit field too large');
  return Number(v);
}

export class ZipArchive {
  private readonly byName: Map<string, ZipEntry>;
  private readonly dataOffsets = new Map<string, number>();

  private constructor(readonly source: RandomAccessSource, readonly entries: ZipEntry[]) {
    this.byName = new Map();
    for (const e of entries) {
      // Two entries of one name would make "which one" depend on the reader.
      if (this.byName.has(e.name)) throw new ZipError(`zip: the central directory lists "${e.name}" twice`);
      this.byName.set(e.name, e);
    }
  }

  static async open(source: RandomAccessSource): Promise<ZipArchive> {
    const { size } = source;
    if (size < 22) throw new ZipError(`zip: input is ${size} bytes, too short for a zip archive (truncated?)`);
    // The end-of-central-directory record sits in the last 22 + 65535 (max comment) bytes.
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = await source.read(size - tailLength, tailLength);
    const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + 22 + tv.getUint16(i + 20, true) <= tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      throw new ZipError('zip: end-of-central-directory record not found: the file is truncated or not a zip archive (PyTorch >= 1.6 checkpoint)');
    }
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    if (tv.getUint16(eocd + 4, true) !== 0 || tv.getUint16(eocd + 6, true) !== 0) {
      throw new ZipError('zip: multi-disk archives are not supported');
    }
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locatorAt = size - tailLength + eocd - 20;
      if (locatorAt < 0) throw new ZipError('zip: zip64 locator missing (truncated?)');
      const loc = await source.read(locatorAt, 20);
      const lv = new DataView(loc.buffer, loc.byteOffset, 20);
      if (lv.getUint32(0, true) !== SIG_ZIP64_LOCATOR) throw new ZipError('zip: zip64 end-of-central-directory locator not found');
      const z64At = u64(lv, 8);
      if (z64At + 56 > size) throw new ZipError('zip: zip64 end-of-central-directory record is outside the file (truncated?)');
      const z = await source.read(z64At, 56);
      const zv = new DataView(z.buffer, z.byteOffset, 56);
      if (zv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw new ZipError('zip: bad zip64 end-of-central-directory signature');
      count = u64(zv, 32);
      cdSize = u64(zv, 40);
      cdOffset = u64(zv, 48);
    }
    if (cdOffset + cdSize > size) {
      throw new ZipError(`zip: central directory [${cdOffset}, ${cdOffset + cdSize}) lies outside the ${size}-byte file (truncated?)`);
    }
    const cd = await source.read(cdOffset, cdSize);
    const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    const entries: ZipEntry[] = [];
    const decoder = new TextDecoder();
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cv.getUint32(p, true) !== SIG_CENTRAL) throw new ZipError(`zip: corrupt central directory at entry ${n}`);
      const method = cv.getUint16(p + 10, true);
      const crc32 = cv.getUint32(p + 16, true);
      let compressedSize = cv.getUint32(p + 20, true);
      let entrySize = cv.getUint32(p + 24, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen = cv.getUint16(p + 32, true);
      let localHeaderOffset = cv.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new ZipError(`zip: corrupt central directory at entry ${n}`);
      const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // zip64 extended information: the 0xFFFFFFFF fields, in this order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cv.getUint16(e, true);
        const len = cv.getUint16(e + 2, true);
        if (id === 0x0001) {
          let f = e + 4;
          if (entrySize === 0xffffffff) { entrySize = u64(cv, f); f += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = u64(cv, f); f += 8; }
          if (localHeaderOffset === 0xffffffff) { localHeaderOffset = u64(cv, f); f += 8; }
          if (f > e + 4 + len) throw new ZipError(`zip: corrupt zip64 extra field of "${name}"`);
        }
        e += 4 + len;
      }
      entries.push({ name, method, crc32, compressedSize, size: entrySize, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return new ZipArchive(source, entries);
  }

  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  private require(name: string): ZipEntry {
    const e = this.byName.get(name);
    if (!e) throw new ZipError(`zip: no entry "${name}"`);
    if (e.method !== 0) {
      throw new ZipError(`zip: entry "${name}" is compressed (method ${e.method}); only stored entries are supported, as torch.save writes them`);
    }
    return e;
  }

  /** Absolute offset of an entry's data (after its local header). */
  async dataOffset(name: string): Promise<number> {
    const cached = this.dataOffsets.get(name);
    if (cached !== undefined) return cached;
    const e = this.require(name);
    if (e.localHeaderOffset + 30 > this.source.size) throw new ZipError(`zip: local header of "${name}" is outside the file (truncated?)`);
    const h = await this.source.read(e.localHeaderOffset, 30);
    const hv = new DataView(h.buffer, h.byteOffset, 30);
    if (hv.getUint32(0, true) !== SIG_LOCAL) throw new ZipError(`zip: bad local header signature for "${name}"`);
    const nameLen = hv.getUint16(26, true);
    // The local header must describe the same entry as the central directory: a central entry
    // pointing at another entry's local header would otherwise read that entry's data.
    if (e.localHeaderOffset + 30 + nameLen > this.source.size) throw new ZipError(`zip: local header of "${name}" is outside the file (truncated?)`);
    const localName = new TextDecoder().decode(await this.source.read(e.localHeaderOffset + 30, nameLen));
    if (localName !== name) {
      throw new ZipError(`zip: the central directory entry "${name}" points at the local header of "${localName}" (corrupt or crafted archive)`);
    }
    const localMethod = hv.getUint16(8, true);
    if (localMethod !== e.method) {
      throw new ZipError(`zip: "${name}" is stored with method ${localMethod} in its local header but ${e.method} in the central directory`);
    }
    const offset = e.localHeaderOffset + 30 + nameLen + hv.getUint16(28, true);
    if (offset + e.size > this.source.size) {
      throw new ZipError(`zip: data of "${name}" (${e.size} bytes at ${offset}) runs past the end of the ${this.source.size}-byte file (truncated?)`);
    }
    this.dataOffsets.set(name, offset);
    return offset;
  }

  /** `length` bytes at `offset` within an entry's data. */
  async readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    const e = this.require(name);
    if (offset < 0 || length < 0 || offset + length > e.size) {
      throw new ZipError(`zip: range [${offset}, ${offset + length}) is outside entry "${name}" (${e.size} bytes)`);
    }
    return this.source.read((await this.dataOffset(name)) + offset, length);
  }

  /** A whole entry, checked against its CRC-32. */
  async read(name: string): Promise<Uint8Array> {
    const e = this.require(name);
    const data = await this.readRange(name, 0, e.size);
    const crc = crc32(data);
    if (crc !== e.crc32) {
      throw new ZipError(`zip: CRC mismatch in "${name}" (stored ${e.crc32.toString(16)}, computed ${crc.toString(16)}): corrupt file`);
    }
    return data;
  }
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE), table-driven; `previous` continues a running checksum. */
export function crc32(data: Uint8Array, previous = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
