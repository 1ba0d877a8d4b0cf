// Fuzz: the DICOM reader. Random synthetic series (size, geometry, rescale, BitsStored, signed)
// read back with the right voxels; byte edits of slices (plain and deflated) end in a volume or a
// clear error naming the file, fast, with every inflation bounded.
import fc from 'fast-check';

type ArbitraryValue<A> = A extends fc.Arbitrary<infer T> ? T : never;
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseDicomSlice, readDicomSeries } from '../../src/volume/dicom.js';
import { writeSyntheticDicom } from '../volume/helpers/dicom-writer.js';
import { applyEdits, byteEdits, fuzzParams, readOrClearError } from './helpers/fuzz.js';

const seriesCase = fc.record({
  rows: fc.integer({ min: 1, max: 9 }),
  columns: fc.integer({ min: 1, max: 9 }),
  slices: fc.integer({ min: 2, max: 5 }),
  gap: fc.constantFrom(0.5, 1, 2.5),
  slope: fc.constantFrom(undefined, 1, 2, 0.5),
  intercept: fc.constantFrom(undefined, 0, -1024, 7.5),
  signed: fc.boolean(),
  bitsStored: fc.constantFrom(12, 16),
  shuffle: fc.nat(),
  seed: fc.nat(),
});

function series(c: ArbitraryValue<typeof seriesCase>) {
  const n = c.rows * c.columns;
  const files = Array.from({ length: c.slices }, (_, k) => {
    const max = 2 ** (c.bitsStored - (c.signed ? 1 : 0));
    const pixels = (c.signed ? new Int16Array(n) : new Uint16Array(n)).map((_, i) => ((i * 97 + k * 13 + c.seed) % max) - (c.signed ? max / 2 : 0));
    return {
      k,
      pixels,
      file: {
        name: `s${k}.dcm`,
        data: writeSyntheticDicom({
          rows: c.rows,
          columns: c.columns,
          position: [1, 2, 3 + k * c.gap],
          instanceNumber: k + 1,
          slope: c.slope,
          intercept: c.intercept,
          signed: c.signed,
          bitsStored: c.bitsStored,
          pixels,
        }),
      },
    };
  });
  // Any order on disk.
  const order = files.map((f, i) => ({ f, key: (i * 7919 + c.shuffle) % 101 })).sort((a, b) => a.key - b.key);
  return { files: order.map((o) => o.f.file), bySlice: files.map((f) => f.pixels) };
}

/** A deflated copy of a synthetic slice (transfer syntax 1.2.840.10008.1.2.1.99). */
function deflated(rows: number, columns: number): Uint8Array {
  const plain = writeSyntheticDicom({ rows, columns, position: [0, 0, 0], transferSyntax: '1.2.840.10008.1.2.1.99', pixels: new Int16Array(rows * columns).map((_, i) => i) });
  const metaEnd = 132 + 12 + new DataView(plain.buffer, plain.byteOffset).getUint32(132 + 8, true);
  const body = new Uint8Array(deflateRawSync(plain.subarray(metaEnd)));
  const out = new Uint8Array(metaEnd + body.length);
  out.set(plain.subarray(0, metaEnd));
  out.set(body, metaEnd);
  return out;
}

describe('fuzz: DICOM', () => {
  it('random series read back with their voxels in slice order', async () => {
    await fc.assert(
      fc.asyncProperty(seriesCase, async (c) => {
        const { files, bySlice } = series(c);
        const { value: v } = await readOrClearError(() => readDicomSeries(files, { name: 'fuzz-series' }), /^$/);
        expect(v!.dims).toEqual([c.columns, c.rows, c.slices]);
        const slope = c.slope ?? 1;
        const intercept = c.intercept ?? 0;
        const plane = c.rows * c.columns;
        bySlice.forEach((pixels, k) => {
          for (let i = 0; i < plane; i++) {
            const raw = c.bitsStored < 16 ? (c.signed ? (pixels[i] << 20) >> 20 : pixels[i] & 0xfff) : pixels[i];
            expect(v!.data[k * plane + i]).toBeCloseTo(raw * slope + intercept, 4);
          }
        });
      }),
      fuzzParams(150),
    );
  });

  const plain = writeSyntheticDicom({ rows: 6, columns: 5, position: [0, 0, 0], pixels: new Int16Array(30).map((_, i) => i * 3) });
  const def = deflated(6, 5);

  it('edited slices (plain and deflated) parse or fail with an error naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(byteEdits(4), fc.boolean(), fc.boolean(), async (edits, useDeflated, headerOnly) => {
        const base = useDeflated ? def : plain;
        const bytes = applyEdits(base, edits, headerOnly ? 400 : undefined);
        const { value } = await readOrClearError(() => parseDicomSlice({ name: 'x.dcm', data: bytes }, { maxSliceBytes: 1 << 20 }), /^x\.dcm: /);
        if (value) expect(value.pixelBytes.length).toBe(value.rows * value.columns * (value.bitsAllocated / 8));
      }),
      fuzzParams(500),
    );
  });

  it('series with edited slices read or fail with a clear error', async () => {
    await fc.assert(
      fc.asyncProperty(seriesCase, byteEdits(3), fc.nat(), async (c, edits, which) => {
        const { files } = series(c);
        const k = which % files.length;
        files[k] = { name: files[k].name, data: applyEdits(files[k].data as Uint8Array, edits) };
        const { value } = await readOrClearError(() => readDicomSeries(files, { name: 'fuzz-series', maxSliceBytes: 1 << 20 }), /^fuzz-series: /);
        if (value) expect(value.data.length).toBe(value.dims[0] * value.dims[1] * value.dims[2]);
      }),
      fuzzParams(200),
    );
  });
});
