import * as niftiReader from 'nifti-reader-js';
import { gunzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readNifti, writeNifti, writeNiftiLabels, NIFTI_INTENT_LABEL } from '../../src/volume/nifti.js';
import { quaternToAffine } from '../../src/volume/quaternion.js';
import { checkSameGeometry } from '../../src/volume/validate.js';
import { axisCodes, createVolume, labelVolumeLike, voxelToWorld, type Mat4, type Vec3 } from '../../src/volume/volume.js';
import { DATA, dataFile } from './helpers/data-files.js';
import { firstDifference, plain } from './helpers/arrays.js';
import { buildNifti1, buildNifti2, typedBytes } from './helpers/nifti-builder.js';

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Header as parsed by nifti-reader-js, an independent implementation. */
function otherReader(file: Uint8Array) {
  let ab = arrayBufferOf(file);
  if (niftiReader.isCompressed(ab)) ab = niftiReader.decompress(ab) as ArrayBuffer;
  const header = niftiReader.readHeader(ab) as niftiReader.NIFTI1;
  return { header, image: new Uint8Array(niftiReader.readImage(header, ab)) };
}

function maxAbsDiff(a: Mat4, b: Mat4): number {
  let d = 0;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a[r][c] - b[r][c]));
  return d;
}

describe('readNifti on real volumes', () => {
  it('reads Colin27 ch2.nii.gz with its geometry and the same voxels as nifti-reader-js', () => {
    const file = dataFile(DATA.ch2);
    const v = readNifti(file, { name: 'ch2.nii.gz' });
    expect(v.dims).toEqual([181, 217, 181]);
    expect(v.spacing).toEqual([1, 1, 1]);
    expect(v.data).toBeInstanceOf(Uint8Array);
    expect(v.affine).toEqual([
      [1, 0, 0, -90],
      [0, 1, 0, -125],
      [0, 0, 1, -71],
      [0, 0, 0, 1],
    ]);
    expect(axisCodes(v.affine)).toEqual(['R', 'A', 'S']);
    expect(v.nifti.sformCode).toBe(4); // MNI_152
    const other = otherReader(new Uint8Array(file));
    expect(Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).equals(Buffer.from(other.image))).toBe(true);
    // World origin (0,0,0) is voxel (90, 125, 71) in MNI space.
    expect(voxelToWorld(v.affine, 90, 125, 71)).toEqual([0, 0, 0]);
  });

  it('reads the AAL atlas on the same grid as ch2, with 116 labels named in aal.nii.txt', () => {
    const ch2 = readNifti(dataFile(DATA.ch2));
    const aal = readNifti(dataFile(DATA.aal));
    expect(aal.dims).toEqual([181, 217, 181]);
    expect(aal.affine).toEqual(ch2.affine);
    expect(() => checkSameGeometry(ch2, aal)).not.toThrow();
    const labels = new Set(aal.data);
    labels.delete(0);
    expect(labels.size).toBe(116);
    expect(Math.max(...labels)).toBe(116);
    expect(dataFile(DATA.aalNames).toString().trim().split('\n')).toHaveLength(116);
  });

  it('reads the ITK T1 (int16, 2×2×3 mm, oblique qform + sform) and its skull-strip label on the same grid', () => {
    const t1File = dataFile(DATA.itkT1);
    const t1 = readNifti(t1File);
    const labels = readNifti(dataFile(DATA.itkLabels));
    expect(t1.dims).toEqual([128, 128, 62]);
    expect(t1.spacing).toEqual([2, 2, 3]);
    expect(t1.data).toBeInstanceOf(Int16Array);
    // sform (code 1) wins over qform (code 2), as in nibabel.
    expect(plain(t1.affine)).toEqual([
      [-2, 0, 0, 0],
      [0, 0, 3, -254],
      [0, 2, 0, 0],
      [0, 0, 0, 1],
    ]);
    expect(axisCodes(t1.affine)).toEqual(['L', 'S', 'A']);
    expect(t1.warnings).toBeUndefined(); // qform agrees with sform to < 1e-3
    // The stored quaternion (0, 0.70710677, 0.70710677) has b²+c²+d² within 1e-7 of 1, so, as in
    // nifti1_io, a = 0 and the qform is exactly the sform. nifti-reader-js (which prefers the qform
    // here) skips that clamp and gets a 0.03° rotation: equal to ours within 1e-3 only.
    const q = quaternToAffine(t1.nifti.quatern, t1.nifti.qoffset, t1.nifti.pixdim);
    expect(maxAbsDiff(q, t1.affine)).toBeLessThan(1e-6);
    const other = otherReader(new Uint8Array(t1File));
    expect(maxAbsDiff(q, other.header.affine)).toBeLessThan(1e-3);
    expect(labels.dims).toEqual(t1.dims);
    expect(() => checkSameGeometry(t1, labels)).not.toThrow();
    let brain = 0;
    for (const x of labels.data) if (x === 6) brain++;
    expect(brain).toBeGreaterThan(10000);
  });
});

describe('writeNiftiLabels', () => {
  it('round-trips the AAL labels: same dims, affine, header geometry and voxels; readable by nifti-reader-js', () => {
    const aal = readNifti(dataFile(DATA.aal));
    const out = writeNiftiLabels(labelVolumeLike(aal, aal.data as Uint8Array), { description: 'round trip' });
    expect(out[0]).toBe(0x1f); // gzip
    const back = readNifti(out);
    expect(back.dims).toEqual(aal.dims);
    expect(back.affine).toEqual(aal.affine);
    expect(back.nifti.srow).toEqual(aal.nifti.srow);
    expect(back.nifti.sformCode).toBe(aal.nifti.sformCode);
    expect(back.nifti.qformCode).toBe(aal.nifti.qformCode);
    expect(firstDifference(back.data, aal.data)).toBe(-1);
    const raw = gunzipSync(out);
    const view = new DataView(raw.buffer);
    expect(view.getInt32(0, true)).toBe(348);
    expect(view.getFloat32(108, true)).toBe(352);
    expect([...raw.subarray(344, 352)]).toEqual([0x6e, 0x2b, 0x31, 0, 0, 0, 0, 0]);
    expect(view.getInt16(68, true)).toBe(NIFTI_INTENT_LABEL);
    const other = otherReader(out);
    expect(other.header.dims.slice(0, 4)).toEqual([3, 181, 217, 181]);
    expect(other.header.datatypeCode).toBe(2);
    expect(other.header.affine).toEqual(aal.affine);
    expect(other.header.description).toBe('round trip');
  });

  it('round-trips the ITK label map keeping qform and sform verbatim', () => {
    const src = readNifti(dataFile(DATA.itkLabels));
    const back = readNifti(writeNiftiLabels(src));
    expect(back.nifti.quatern).toEqual(src.nifti.quatern);
    expect(back.nifti.qoffset).toEqual(src.nifti.qoffset);
    expect(back.nifti.pixdim.slice(0, 4)).toEqual(src.nifti.pixdim.slice(0, 4));
    expect(back.nifti.srow).toEqual(src.nifti.srow);
    expect([back.nifti.qformCode, back.nifti.sformCode]).toEqual([2, 1]);
    expect(back.nifti.xyztUnits).toBe(src.nifti.xyztUnits);
    expect(back.affine).toEqual(src.affine);
    expect(firstDifference(back.data, src.data)).toBe(-1);
  });

  it('writes uint16 labels on an oblique synthetic grid and reads them back', () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const affine: Mat4 = [
      [0.8 * c, -0.8 * s, 0, 12.5],
      [0.8 * s, 0.8 * c, 0, -40.25],
      [0, 0, -2.5, 7],
      [0, 0, 0, 1],
    ];
    const dims: Vec3 = [7, 5, 4];
    const data = new Uint16Array(7 * 5 * 4).map((_, i) => (i * 7919) % 1000);
    const vol = createVolume({ dims, data, affine });
    const back = readNifti(writeNiftiLabels(vol, { gzip: false }));
    expect(back.data).toBeInstanceOf(Uint16Array);
    expect(back.data).toEqual(data);
    expect(maxAbsDiff(back.affine, affine)).toBeLessThan(1e-5);
    // The qform written alongside describes the same grid (left-handed: qfac = -1).
    expect(back.nifti.pixdim[0]).toBe(-1);
    expect(maxAbsDiff(quaternToAffine(back.nifti.quatern, back.nifti.qoffset, back.nifti.pixdim), affine)).toBeLessThan(1e-5);
    expect(back.spacing.map((x) => +x.toFixed(5))).toEqual([0.8, 0.8, 2.5]);
  });

  it('rejects non-label data and writes other dtypes with writeNifti', () => {
    const vol = createVolume({ dims: [2, 2, 2], data: new Float32Array(8).fill(1.5) });
    expect(() => writeNiftiLabels(vol)).toThrow(/Uint8Array or Uint16Array/);
    expect(readNifti(writeNifti(vol)).data).toEqual(new Float32Array(8).fill(1.5));
  });
});

describe('readNifti on synthetic files', () => {
  const dims3 = [3, 4, 3, 2, 1, 1, 1, 1];
  const n = 4 * 3 * 2;
  const srow = [
    [-1.5, 0, 0, 10],
    [0, 2, 0, -20],
    [0, 0, 3, 5],
  ];

  it.each([
    ['uint8', 2, 8, Uint8Array],
    ['int8', 256, 8, Int8Array],
    ['int16', 4, 16, Int16Array],
    ['uint16', 512, 16, Uint16Array],
    ['int32', 8, 32, Int32Array],
    ['uint32', 768, 32, Uint32Array],
    ['float32', 16, 32, Float32Array],
    ['float64', 64, 64, Float64Array],
  ] as const)('reads %s in both byte orders', (_name, code, bitpix, Ctor) => {
    const values = new Ctor(n).map((_, i) => (Ctor === Int8Array || Ctor === Int16Array || Ctor === Int32Array ? i * 3 - 30 : i * 5 + 1));
    for (const le of [true, false]) {
      const file = buildNifti1({ dim: dims3, datatype: code, bitpix, sformCode: 1, srow }, typedBytes(values as never, le), le);
      const v = readNifti(file);
      expect(v.data).toBeInstanceOf(Ctor);
      expect(Array.from(v.data)).toEqual(Array.from(values));
      expect(v.affine.slice(0, 3)).toEqual(srow);
    }
  });

  it('applies scl_slope/scl_inter: integer scaling stays Int16, fractional becomes Float32', () => {
    const raw = new Int16Array(n).map((_, i) => i * 100);
    const ct = readNifti(buildNifti1({ dim: dims3, datatype: 4, bitpix: 16, sclSlope: 1, sclInter: -1024 }, typedBytes(raw)));
    expect(ct.data).toBeInstanceOf(Int16Array);
    expect(Array.from(ct.data)).toEqual(Array.from(raw, (x) => x - 1024));
    const pet = readNifti(buildNifti1({ dim: dims3, datatype: 4, bitpix: 16, sclSlope: 0.5, sclInter: 0.25 }, typedBytes(raw)));
    expect(pet.data).toBeInstanceOf(Float32Array);
    expect(Array.from(pet.data)).toEqual(Array.from(raw, (x) => x * 0.5 + 0.25));
    const none = readNifti(buildNifti1({ dim: dims3, datatype: 4, bitpix: 16, sclSlope: 0, sclInter: 7 }, typedBytes(raw)));
    expect(Array.from(none.data)).toEqual(Array.from(raw));
  });

  it('uses the qform when there is no sform, matching nifti-reader-js', () => {
    const file = buildNifti1(
      { dim: dims3, datatype: 2, bitpix: 8, qformCode: 1, quatern: [0.1, -0.2, 0.3], qoffset: [5, 6, 7], pixdim: [-1, 0.7, 0.9, 2.2, 0, 0, 0, 0] },
      new Uint8Array(n),
    );
    const v = readNifti(file);
    expect(maxAbsDiff(v.affine, otherReader(file).header.affine)).toBeLessThan(1e-6);
    expect(v.spacing.map((x) => +x.toFixed(6))).toEqual([0.7, 0.9, 2.2]);
  });

  it('falls back to a pixdim diagonal with a warning when neither transform is set', () => {
    const v = readNifti(buildNifti1({ dim: dims3, datatype: 2, bitpix: 8, pixdim: [1, 2, 3, 4, 0, 0, 0, 0] }, new Uint8Array(n)));
    expect(v.affine).toEqual([
      [2, 0, 0, 0],
      [0, 3, 0, 0],
      [0, 0, 4, 0],
      [0, 0, 0, 1],
    ]);
    expect(v.warnings?.[0]).toMatch(/no qform or sform/);
  });

  it('converts spacing to mm from metre and micron units', () => {
    const pixdim = [1, 0.001, 0.002, 0.003, 0, 0, 0, 0];
    const metres = readNifti(buildNifti1({ dim: dims3, datatype: 2, bitpix: 8, pixdim, xyztUnits: 1 }, new Uint8Array(n)));
    expect(metres.spacing.map((x) => +x.toFixed(6))).toEqual([1, 2, 3]);
    const microns = readNifti(buildNifti1({ dim: dims3, datatype: 2, bitpix: 8, pixdim: [1, 500, 250, 1000, 0, 0, 0, 0], xyztUnits: 3 }, new Uint8Array(n)));
    expect(microns.spacing).toEqual([0.5, 0.25, 1]);
  });

  it('reads NIfTI-2 (float64 data, 64-bit header fields)', () => {
    const values = new Float64Array(n).map((_, i) => i / 7);
    const file = buildNifti2({ dim: dims3, datatype: 64, bitpix: 64, sformCode: 2, srow, pixdim: [1, 1.5, 2, 3, 0, 0, 0, 0] }, typedBytes(values));
    const v = readNifti(file);
    expect(v.dims).toEqual([4, 3, 2]);
    expect(Array.from(v.data)).toEqual(Array.from(values));
    expect(v.affine.slice(0, 3)).toEqual(srow);
    expect(v.spacing).toEqual([1.5, 2, 3]);
  });

  it('rejects a 4D file with several frames unless a frame is chosen', () => {
    const frames = new Uint8Array(3 * n).map((_, i) => Math.floor(i / n) * 10 + (i % n));
    const file = buildNifti1({ dim: [4, 4, 3, 2, 3, 1, 1, 1], datatype: 2, bitpix: 8 }, frames);
    expect(() => readNifti(file, { name: 'bold.nii' })).toThrow(/bold\.nii: 4D image with 3 frames; choose one with --frame N \(0\.\.2\)/);
    expect(Array.from(readNifti(file, { frame: 1 }).data)).toEqual(Array.from(frames.subarray(n, 2 * n)));
    expect(() => readNifti(file, { frame: 3 })).toThrow(/frame 3 is out of range \(the file has 3 frames\)/);
    // A 4th dimension of 1 is just a 3D volume.
    expect(readNifti(buildNifti1({ dim: [4, 4, 3, 2, 1, 1, 1, 1], datatype: 2, bitpix: 8 }, frames.subarray(0, n))).dims).toEqual([4, 3, 2]);
  });
});

describe('readNifti errors', () => {
  it('names a file that is not NIfTI', () => {
    const png = new Uint8Array(400);
    png.set([0x89, 0x50, 0x4e, 0x47]);
    expect(() => readNifti(png, { name: 'photo.png' })).toThrow(/photo\.png: not a NIfTI file \(sizeof_hdr is/);
    expect(() => readNifti(new TextEncoder().encode('hello'), { name: 'notes.txt' })).toThrow(/notes\.txt: not a NIfTI file \(only 5 bytes/);
    const analyze = buildNifti1({ dim: [3, 2, 2, 2, 1, 1, 1, 1], datatype: 2, bitpix: 8, magic: '\0\0\0' }, new Uint8Array(8));
    expect(() => readNifti(analyze)).toThrow(/not a NIfTI-1 file \(magic is ""/);
    const pair = buildNifti1({ dim: [3, 2, 2, 2, 1, 1, 1, 1], datatype: 2, bitpix: 8, magic: 'ni1' }, new Uint8Array(0));
    expect(() => readNifti(pair)).toThrow(/\.hdr of a NIfTI \.hdr\/\.img pair/);
  });

  it('rejects a 2D image as not a volume', () => {
    const img2d = buildNifti1({ dim: [2, 64, 64, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8 }, new Uint8Array(64 * 64));
    expect(() => readNifti(img2d, { name: 'slice.nii' })).toThrow(/slice\.nii: not a volume: the image is 64×64×1 \(a single voxel along k\)/);
    const flat3d = buildNifti1({ dim: [3, 64, 64, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8 }, new Uint8Array(64 * 64));
    expect(() => readNifti(flat3d)).toThrow(/not a volume/);
  });

  it('reports a truncated .nii.gz and a truncated .nii', () => {
    const gz = dataFile(DATA.itkLabels);
    expect(() => readNifti(gz.subarray(0, Math.floor(gz.length / 2)), { name: 'cut.nii.gz' })).toThrow(/cut\.nii\.gz: gzip data is truncated or corrupt/);
    const raw = gunzipSync(new Uint8Array(gz));
    expect(() => readNifti(raw.subarray(0, raw.length - 100), { name: 'cut.nii' })).toThrow(
      /cut\.nii: truncated NIfTI file: 128×128×62 uint8 needs 1016160 bytes, the file has 1016060/,
    );
  });

  it('names unsupported datatypes', () => {
    const rgb = buildNifti1({ dim: [3, 2, 2, 2, 1, 1, 1, 1], datatype: 128, bitpix: 24 }, new Uint8Array(24));
    expect(() => readNifti(rgb)).toThrow(/datatype 128 \(RGB24\) is not supported; supported: uint8, int16/);
  });
});
