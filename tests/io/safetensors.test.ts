import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { float32ToBfloat16Array, float32ToFloat16Array } from '../../src/io/half.js';
import {
  FileSource,
  readSafetensorsFile,
  readSafetensorsHeader,
  writeFileAtomically,
} from '../../src/io/node-files.js';
import {
  SafetensorsStreamWriter,
  orderForAlignment,
  parseSafetensors,
  planSafetensors,
  serializeSafetensors,
  type TensorToWrite,
} from '../../src/io/safetensors.js';
import { fixturePath } from '../helpers/fixtures-dir.js';

function randomF32(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32) * 8 - 4;
  });
}

/** A file built by hand from a header object and a data section. */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const sample = (): TensorToWrite[] => {
  const f32 = randomF32(12, 3);
  return [
    { name: 'a.f32', dtype: 'F32', shape: [3, 4], data: f32 },
    { name: 'b.f16', dtype: 'F16', shape: [2, 3], data: float32ToFloat16Array(randomF32(6, 4)) },
    { name: 'c.bf16', dtype: 'BF16', shape: [5], data: float32ToBfloat16Array(randomF32(5, 5)) },
    { name: 'd.i8', dtype: 'I8', shape: [3], data: new Int8Array([-128, 0, 127]) },
    { name: 'e.u8', dtype: 'U8', shape: [2, 2], data: new Uint8Array([0, 1, 254, 255]) },
    { name: 'f.i32', dtype: 'I32', shape: [2], data: new Int32Array([-2147483648, 2147483647]) },
    { name: 'g.u32', dtype: 'U32', shape: [1], data: new Uint32Array([4294967295]) },
    { name: 'h.i64', dtype: 'I64', shape: [2], data: new BigInt64Array([-5n, 1n << 40n]) },
    { name: 'i.empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
  ];
};

describe('safetensors round trip', () => {
  it('writes and reads every dtype with metadata', () => {
    const tensors = sample();
    const bytes = serializeSafetensors(tensors, { arch: 'micro', note: 'ünïcode' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0); // data section 8-byte aligned
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual({ arch: 'micro', note: 'ünïcode' });
    expect(file.keys()).toEqual(tensors.map((t) => t.name));
    for (const t of tensors) {
      expect(file.info(t.name).dtype).toBe(t.dtype);
      expect(file.info(t.name).shape).toEqual(t.shape);
      expect(Array.from(file.get(t.name) as ArrayLike<unknown>)).toEqual(Array.from(t.data as unknown as ArrayLike<unknown>));
    }
    expect(file.get('a.f32')).toBeInstanceOf(Float32Array);
    expect(file.get('b.f16')).toBeInstanceOf(Uint16Array);
    expect(file.get('h.i64')).toBeInstanceOf(BigInt64Array);
    // F16/BF16 widen exactly to the rounded values
    const f16 = file.getFloat32('b.f16');
    expect(Array.from(float32ToFloat16Array(f16))).toEqual(Array.from(tensors[1].data as Uint16Array));
    expect(Array.from(file.getFloat32('d.i8'))).toEqual([-128, 0, 127]);
    expect(() => file.get('nope')).toThrow(/no tensor named "nope"/);
  });

  it('copies misaligned tensors instead of failing', () => {
    const bytes = serializeSafetensors([
      { name: 'odd', dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      { name: 'x', dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2.25]) },
    ]);
    expect(Array.from(parseSafetensors(bytes).get('x') as Float32Array)).toEqual([1.5, -2.25]);
  });

  it('orderForAlignment sorts by item size, stable', () => {
    const order = orderForAlignment(sample()).map((t) => t.name);
    expect(order).toEqual(['h.i64', 'a.f32', 'f.i32', 'g.u32', 'i.empty', 'b.f16', 'c.bf16', 'd.i8', 'e.u8']);
  });

  it('reads the python-written fixture files', async () => {
    const file = await readSafetensorsFile(fixturePath('micro-image', 'tensors.safetensors'));
    expect(file.metadata.fixture).toBe('micro-image');
    expect(file.info('input.image').shape).toEqual([3, 256, 256]);
    expect(file.get('input.gray_u8')).toBeInstanceOf(Int32Array);
    const source = await FileSource.open(fixturePath('micro-image', 'weights.safetensors'));
    const header = await readSafetensorsHeader(source).finally(() => source.close());
    expect(header.tensors.length).toBe(371);
    expect(header.metadata.model).toBe('micro');
  });
});

describe('streaming writer', () => {
  it('produces the same bytes as serializeSafetensors and enforces order and sizes', async () => {
    const tensors = sample();
    const layout = planSafetensors(tensors, { k: 'v' });
    const chunks: Uint8Array[] = [];
    const writer = new SafetensorsStreamWriter(layout, { write: async (c) => void chunks.push(c.slice()) });
    await writer.writeHeader();
    await expect(writer.writeTensor('b.f16', tensors[1].data)).rejects.toThrow(/expected tensor "a.f32" next, got "b.f16"/);
    await expect(writer.writeTensor('a.f32', new Float32Array(11))).rejects.toThrow(/"a.f32" \(F32 \[3,4\]\) needs 48 bytes, got 44/);
    for (const t of tensors.slice(0, -1)) await writer.writeTensor(t.name, t.data);
    expect(() => writer.finish()).toThrow(/tensor "i.empty" was never written/);
    await writer.writeTensor('i.empty', new Float32Array(0));
    writer.finish();
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(serializeSafetensors(tensors, { k: 'v' })));
    expect(layout.totalBytes).toBe(Buffer.concat(chunks).length);
  });

  it('rejects duplicate names, bad shapes and the reserved name', () => {
    expect(() => planSafetensors([{ name: 'a', dtype: 'F32', shape: [1] }, { name: 'a', dtype: 'F32', shape: [1] }])).toThrow(/duplicate tensor name "a"/);
    expect(() => planSafetensors([{ name: 'a', dtype: 'F32', shape: [-1] }])).toThrow(/invalid shape/);
    expect(() => planSafetensors([{ name: '__metadata__', dtype: 'F32', shape: [1] }])).toThrow(/reserved/);
  });

  it('writeFileAtomically leaves no file behind on failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const out = join(dir, 'w.safetensors');
    await expect(writeFileAtomically(out, async (sink) => {
      await sink.write(new Uint8Array(10));
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(readdirSync(dir)).toEqual([]);
    const bytes = serializeSafetensors(sample());
    await writeFileAtomically(out, async (sink) => sink.write(bytes));
    expect(readdirSync(dir)).toEqual(['w.safetensors']);
    expect(new Uint8Array(readFileSync(out))).toEqual(bytes);
    expect(existsSync(`${out}.tmp-${process.pid}`)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('malformed files fail with a clear message', () => {
  const f4 = new Uint8Array(new Float32Array([1, 2]).buffer);
  const good = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['too short', new Uint8Array(5), /too short for the 8-byte header length/],
    ['header past end', (() => { const b = rawFile(good, f4); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), /runs past the end of the \d+-byte file/],
    ['absurd header length', (() => { const b = rawFile(good, f4); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), /exceeds the 100000000-byte limit/],
    ['not JSON', rawFile(null, f4, '{"x": '), /not valid JSON/],
    ['not an object', rawFile([1, 2], f4), /must start with '\{'/],
    ['invalid UTF-8', rawFile(null, f4, '{"ab": 1}').map((v, i) => (i === 10 ? 0xff : v)), /not valid UTF-8/],
    ['unknown dtype', rawFile({ x: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 8] } }, f4), /tensor "x" has unsupported dtype "F8_E4M3"/],
    ['bad shape', rawFile({ x: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, f4), /tensor "x" has an invalid shape/],
    ['bad offsets', rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, f4), /tensor "x" has invalid data_offsets/],
    ['shape vs span', rawFile({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f4), /tensor "x": shape \[3\] x F32 needs 12 bytes but data_offsets span 8/],
    ['overlap', rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f4), /tensor "y" data_offsets \[4, 8\] overlaps the previous tensor/],
    ['gap', rawFile({ y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f4), /tensor "y" data_offsets \[4, 8\] leaves a gap/],
    ['truncated data', rawFile({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f4), /tensor "x" data ends at 16, past the 8-byte data section/],
    ['trailing bytes', rawFile({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f4), /data section is 8 bytes but the tensors cover 4/],
    ['metadata not strings', rawFile({ __metadata__: { a: 1 }, ...good }, f4), /"__metadata__" value for "a" is not a string/],
  ];

  for (const [what, bytes, message] of cases) {
    it(what, () => {
      expect(() => parseSafetensors(bytes)).toThrow(message);
    });
  }

  it('a truncated real file is rejected', () => {
    const bytes = new Uint8Array(readFileSync(fixturePath('micro-image', 'weights.safetensors')));
    expect(() => parseSafetensors(bytes.subarray(0, bytes.length - 3))).toThrow(/past the \d+-byte data section|tensors cover/);
  });
});
