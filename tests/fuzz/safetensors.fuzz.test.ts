// Fuzz: the safetensors reader. Valid files of random tensors read back exactly; random edits of a
// valid file, and random headers, read consistently or fail with a "safetensors:" error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTYPE_ITEM_SIZE, parseSafetensors, serializeSafetensors, type SafetensorsDtype } from '../../src/io/safetensors.js';
import { readSafetensorsHeader, MemorySource } from '../../src/io/node-files.js';
import { rawSafetensors } from '../hardening/reproducers/safetensors.js';
import { applyEdits, byteEdits, fuzzParams, readOrClearError } from './helpers/fuzz.js';

const DTYPES = Object.keys(DTYPE_ITEM_SIZE) as SafetensorsDtype[];

const tensorArb = fc.record({
  name: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__'),
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
  seed: fc.nat(),
});

function bytesFor(dtype: SafetensorsDtype, shape: number[], seed: number): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1) * DTYPE_ITEM_SIZE[dtype];
  return Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 7 + 13) & 0xff);
}

/** Checks a parsed file against itself: every tensor inside the data, sizes consistent, all covered. */
function checkConsistent(file: ReturnType<typeof parseSafetensors>): void {
  let covered = 0;
  for (const key of file.keys()) {
    const info = file.info(key);
    expect(info.byteLength).toBe(info.shape.reduce((a, b) => a * b, 1) * DTYPE_ITEM_SIZE[info.dtype]);
    expect(file.bytesOf(key).length).toBe(info.byteLength);
    covered += info.byteLength;
  }
  expect(covered).toBe(file.header.dataLength);
}

describe('fuzz: safetensors', () => {
  it('random tensors and metadata read back exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(tensorArb, { selector: (t) => t.name, maxLength: 6 }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 3 }),
        async (tensors, metadata) => {
          const input = tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: bytesFor(t.dtype, t.shape, t.seed) }));
          const bytes = serializeSafetensors(input, Object.keys(metadata).length ? metadata : undefined);
          const { value: file } = await readOrClearError(() => parseSafetensors(bytes), /^$/);
          expect(file!.keys().sort()).toEqual(input.map((t) => t.name).sort());
          for (const t of input) {
            expect(file!.info(t.name).dtype).toBe(t.dtype);
            expect(file!.info(t.name).shape).toEqual(t.shape);
            expect(file!.bytesOf(t.name)).toEqual(t.data);
          }
          expect(file!.metadata).toEqual(Object.keys(metadata).length ? metadata : {});
        },
      ),
      fuzzParams(150),
    );
  });

  const valid = serializeSafetensors(
    [
      { name: 'a.weight', dtype: 'F32', shape: [3, 2], data: bytesFor('F32', [3, 2], 1) },
      { name: 'b', dtype: 'F16', shape: [5], data: bytesFor('F16', [5], 2) },
      { name: 'c', dtype: 'I64', shape: [], data: bytesFor('I64', [], 3) },
    ],
    { format: 'pt' },
  );

  it('edited files read consistently or fail with a safetensors error', async () => {
    await fc.assert(
      fc.asyncProperty(byteEdits(4), fc.boolean(), async (edits, inHeader) => {
        const bytes = applyEdits(valid, edits, inHeader ? 8 + 200 : undefined);
        const { value } = await readOrClearError(() => parseSafetensors(bytes), /^safetensors: /);
        if (value) checkConsistent(value);
        // The header-only path (used by the CLI before loading) agrees with the full parse.
        const header = await readOrClearError(() => readSafetensorsHeader(new MemorySource(bytes)), /^safetensors: /);
        expect(!!header.value).toBe(!!value);
      }),
      fuzzParams(400),
    );
  });

  const jsonValue = fc.oneof(
    fc.constantFrom('0', '8', '-0', '8.0', '1e1', '-8', '9007199254740993', '"F32"', '"X"', 'null', 'true', '[]', '{}', '[0,8]', '[0,8.0]', '[8,0]', '[2]', '[2.5]', '[-1]'),
    fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
  );
  const entry = fc
    .array(fc.tuple(fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra'), jsonValue), { maxLength: 5 })
    .map((fields) => `{${fields.map(([k, v]) => `"${k}":${v}`).join(',')}}`);

  it('random headers parse consistently or fail with a safetensors error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('w', 'b', '__metadata__', 'w'), fc.oneof(entry, jsonValue)), { maxLength: 4 }),
        fc.constantFrom('', ' ', '   ', '\n', '\u0000', 'x'),
        fc.constantFrom('', ' ', '\ufeff'),
        fc.integer({ min: 0, max: 24 }),
        async (members, tail, lead, dataBytes) => {
          const json = `${lead}{${members.map(([k, v]) => `"${k}":${v}`).join(',')}}${tail}`;
          const { value } = await readOrClearError(() => parseSafetensors(rawSafetensors(json, dataBytes)), /^safetensors: /);
          if (value) checkConsistent(value);
        },
      ),
      fuzzParams(400),
    );
  });
});
