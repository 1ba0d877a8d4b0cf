import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../src/io/node-files.js';
import { ZipArchive, crc32 } from '../../weights-tools/zip-reader.js';
import { writeZip } from './helpers/torch-writer.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('zip reader', () => {
  const entries = [
    { name: 'archive/data.pkl', data: bytes(100, 1) },
    { name: 'archive/data/0', data: bytes(4000, 2) },
    { name: 'archive/data/1', data: new Uint8Array(0) },
  ];

  for (const zip64 of [false, true]) {
    it(`reads entries, aligned data and ranges (${zip64 ? 'zip64' : 'zip32'}, with a comment)`, async () => {
      const zip = writeZip(entries, { zip64, comment: 'PK\x05\x06 looks like a signature' });
      const archive = await ZipArchive.open(new MemorySource(zip));
      expect(archive.names()).toEqual(entries.map((e) => e.name));
      for (const e of entries) {
        expect(await archive.read(e.name)).toEqual(e.data);
        expect((await archive.dataOffset(e.name)) % 64).toBe(0);
      }
      expect(await archive.readRange('archive/data/0', 1000, 8)).toEqual(entries[1].data.subarray(1000, 1008));
      await expect(archive.readRange('archive/data/0', 3996, 8)).rejects.toThrow(/range \[3996, 4004\) is outside entry "archive\/data\/0" \(4000 bytes\)/);
      await expect(archive.read('nope')).rejects.toThrow(/no entry "nope"/);
    });
  }

  it('rejects truncated archives, corrupt data and compressed entries', async () => {
    const zip = writeZip(entries);
    await expect(ZipArchive.open(new MemorySource(zip.subarray(0, zip.length - 30)))).rejects.toThrow(/end-of-central-directory record not found/);
    await expect(ZipArchive.open(new MemorySource(zip.subarray(0, 10)))).rejects.toThrow(/too short/);
    // cut the data but keep a valid directory pointing past the end
    const z64 = writeZip(entries, { zip64: true });
    const archive = await ZipArchive.open(new MemorySource(z64));
    const cut = new MemorySource(z64.subarray(0, 200));
    await expect(ZipArchive.open(cut)).rejects.toThrow(/truncated|not found/);
    expect(archive.entries[1].size).toBe(4000);
    const corrupt = zip.slice();
    corrupt[(await (await ZipArchive.open(new MemorySource(zip))).dataOffset('archive/data/0')) + 5] ^= 1;
    await expect((await ZipArchive.open(new MemorySource(corrupt))).read('archive/data/0')).rejects.toThrow(/CRC mismatch in "archive\/data\/0"/);
    const deflated = writeZip([{ name: 'a/data.pkl', data: bytes(10, 3), method: 8 }]);
    await expect((await ZipArchive.open(new MemorySource(deflated))).read('a/data.pkl')).rejects.toThrow(/compressed \(method 8\)/);
  });

  it('crc32 matches zlib', () => {
    const data = bytes(100000, 7);
    expect(crc32(data)).toBe(zlibCrc32(data) >>> 0);
    expect(crc32(data.subarray(500), crc32(data.subarray(0, 500)))).toBe(zlibCrc32(data) >>> 0);
  });
});
