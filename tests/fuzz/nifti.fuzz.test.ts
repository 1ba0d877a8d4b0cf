// Fuzz: the NIfTI reader (.nii and .nii.gz, NIfTI-1 and -2, both byte orders). Random small
// volumes read back with the right dims and scaled values; hostile header fields and byte edits
// end in a consistent volume or an error naming the file, fast and under a small size cap.
import fc from 'fast-check';

type ArbitraryValue<A> = A extends fc.Arbitrary<infer T> ? T : never;
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readNifti } from '../../src/volume/nifti.js';
import type { Volume } from '../../src/volume/volume.js';
import { buildNifti1, buildNifti2, typedBytes, type HeaderFields } from '../volume/helpers/nifti-builder.js';
import { applyEdits, byteEdits, fuzzParams, NASTY_FLOATS, NASTY_INTS, readOrClearError } from './helpers/fuzz.js';

const TYPES = [
  { code: 2, bits: 8, make: (n: number) => new Uint8Array(n) },
  { code: 4, bits: 16, make: (n: number) => new Int16Array(n) },
  { code: 8, bits: 32, make: (n: number) => new Int32Array(n) },
  { code: 16, bits: 32, make: (n: number) => new Float32Array(n) },
  { code: 64, bits: 64, make: (n: number) => new Float64Array(n) },
  { code: 256, bits: 8, make: (n: number) => new Int8Array(n) },
  { code: 512, bits: 16, make: (n: number) => new Uint16Array(n) },
  { code: 768, bits: 32, make: (n: number) => new Uint32Array(n) },
] as const;

const NAME = 'fuzz.nii';
const CLEAR = /^fuzz\.nii: /;
/** A small cap: hostile headers must be refused before any large allocation. */
const MAX_BYTES = 8 * 2 ** 20;

function checkVolume(v: Volume): void {
  const [nx, ny, nz] = v.dims;
  expect(v.data.length).toBe(nx * ny * nz);
  expect(v.dims.every((d) => Number.isInteger(d) && d >= 2)).toBe(true);
  expect(v.affine.flat().every((x) => Number.isFinite(x))).toBe(true);
  expect(v.spacing.every((s) => Number.isFinite(s) && s > 0)).toBe(true);
  let finite = 0;
  for (let i = 0; i < v.data.length; i++) if (Number.isFinite(v.data[i])) finite++;
  expect(finite).toBeGreaterThan(0);
}

const volumeCase = fc.record({
  dims: fc.tuple(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 5 })),
  type: fc.constantFrom(...TYPES),
  version: fc.constantFrom(1, 2),
  littleEndian: fc.boolean(),
  gzip: fc.boolean(),
  slope: fc.constantFrom(0, 1, 2, -0.5, 1e-3, 1e38),
  inter: fc.constantFrom(0, -1024, 3.5),
  seed: fc.nat(),
});

function build(c: ArbitraryValue<typeof volumeCase>, edit: Partial<HeaderFields> = {}): { bytes: Uint8Array; raw: ArrayLike<number> } {
  const n = c.dims[0] * c.dims[1] * c.dims[2];
  const raw = c.type.make(n);
  for (let i = 0; i < n; i++) raw[i] = ((i * 37 + c.seed) % 200) - (raw instanceof Uint8Array || raw instanceof Uint16Array || raw instanceof Uint32Array ? 0 : 100);
  const h: HeaderFields = {
    dim: [3, ...c.dims, 1, 1, 1, 1],
    datatype: c.type.code,
    bitpix: c.type.bits,
    pixdim: [1, 1.5, 2, 2.5, 1, 1, 1, 1],
    sclSlope: c.slope,
    sclInter: c.inter,
    qformCode: 1,
    quatern: [0, 0, 0],
    ...edit,
    voxOffset: undefined,
  };
  const file = (c.version === 1 ? buildNifti1 : buildNifti2)(h, typedBytes(raw as Float32Array, c.littleEndian), c.littleEndian);
  if (edit.voxOffset !== undefined) {
    // The field lies; the bytes stay where the builder put them.
    const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
    if (c.version === 1) v.setFloat32(108, edit.voxOffset, c.littleEndian);
    else v.setBigInt64(168, BigInt(edit.voxOffset), c.littleEndian);
  }
  return { bytes: c.gzip ? gzipSync(file) : file, raw };
}

describe('fuzz: NIfTI', () => {
  it('random small volumes read back with their dims and scaled values', async () => {
    await fc.assert(
      fc.asyncProperty(volumeCase, async (c) => {
        const { bytes, raw } = build(c);
        const { value: v } = await readOrClearError(() => readNifti(bytes, { name: NAME, maxBytes: MAX_BYTES }), /^$/);
        expect(v!.dims).toEqual(c.dims);
        const scaled = c.slope !== 0;
        for (let i = 0; i < raw.length; i++) {
          // float32 storage holds raw × slope + inter rounded once; float64 and integers exactly.
          const want = scaled ? raw[i] * Math.fround(c.slope) + Math.fround(c.inter) : raw[i];
          const got = v!.data[i];
          if (c.version === 2) {
            const want2 = scaled ? raw[i] * c.slope + c.inter : raw[i];
            expect(Math.abs(got - want2)).toBeLessThanOrEqual(Math.abs(want2) * 1e-6 + 1e-6);
          } else {
            expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.abs(want) * 1e-6 + 1e-6);
          }
        }
      }),
      fuzzParams(200),
    );
  });

  const int = fc.constantFrom(...NASTY_INTS);
  const float = fc.constantFrom(...NASTY_FLOATS);
  const hostileHeader = fc.record(
    {
      dim: fc.array(fc.oneof(int, fc.integer({ min: 0, max: 8 })), { minLength: 8, maxLength: 8 }),
      datatype: fc.oneof(int, fc.constantFrom(...TYPES.map((t) => t.code), 1, 32, 128, 1024, 2304)),
      bitpix: int,
      pixdim: fc.array(float, { minLength: 8, maxLength: 8 }),
      voxOffset: fc.oneof(fc.constantFrom(0, 100, 347, 348, 352, 353, 540, 544, 1 << 24), fc.integer({ min: 0, max: 4096 })),
      sclSlope: float,
      sclInter: float,
      qformCode: fc.constantFrom(0, 1, 2, -1, 32767),
      sformCode: fc.constantFrom(0, 1, 4, -5),
      quatern: fc.array(float, { minLength: 3, maxLength: 3 }),
      qoffset: fc.array(float, { minLength: 3, maxLength: 3 }),
      srow: fc.array(fc.array(float, { minLength: 4, maxLength: 4 }), { minLength: 3, maxLength: 3 }),
      magic: fc.constantFrom('n+1', 'ni1', 'n+2', 'xyz'),
    },
    { requiredKeys: [] },
  );

  it('hostile header fields give a consistent volume or a clear error', async () => {
    await fc.assert(
      fc.asyncProperty(volumeCase, hostileHeader, async (c, edit) => {
        const { bytes } = build(c, edit as Partial<HeaderFields>);
        const { value } = await readOrClearError(() => readNifti(bytes, { name: NAME, maxBytes: MAX_BYTES }), CLEAR);
        if (value) checkVolume(value);
      }),
      fuzzParams(500),
    );
  });

  it('byte edits (header, data, gzip stream) give a consistent volume or a clear error', async () => {
    await fc.assert(
      fc.asyncProperty(volumeCase, byteEdits(4), fc.boolean(), async (c, edits, headerOnly) => {
        const { bytes } = build(c);
        const edited = applyEdits(bytes, edits, headerOnly ? 600 : undefined);
        const { value } = await readOrClearError(() => readNifti(edited, { name: NAME, maxBytes: MAX_BYTES }), CLEAR);
        if (value) checkVolume(value);
      }),
      fuzzParams(500),
    );
  });
});
