import { describe, expect, it } from 'vitest';
import { readNifti } from '../../src/volume/nifti.js';
import { reorient } from '../../src/volume/orientation.js';
import {
  AXES,
  extractLabelMask,
  extractSlice,
  insertSlice,
  parseAxis,
  sliceShape,
  sliceToVoxel,
  slicePixelSpacing,
  voxelToSlice,
  writeMaskSlice,
} from '../../src/volume/slicing.js';
import { voxelIndex, voxelToWorld, type Vec3 } from '../../src/volume/volume.js';
import { firstDifference } from './helpers/arrays.js';
import { DATA, dataFile } from './helpers/data-files.js';

const dims: Vec3 = [5, 4, 3];
const volume = new Int16Array(60).map((_, v) => v * 7 - 100);

describe('slicing', () => {
  it('documents the pixel ↔ voxel mapping and extractSlice follows it', () => {
    expect(sliceShape(dims, 'axial')).toEqual({ width: 5, height: 4, count: 3 });
    expect(sliceShape(dims, 'coronal')).toEqual({ width: 5, height: 3, count: 4 });
    expect(sliceShape(dims, 'sagittal')).toEqual({ width: 4, height: 3, count: 5 });
    expect(sliceToVoxel(dims, 'axial', 2, 1, 3)).toEqual([1, 3, 2]);
    expect(sliceToVoxel(dims, 'coronal', 2, 1, 0)).toEqual([1, 2, 2]); // row 0 = highest k
    expect(sliceToVoxel(dims, 'sagittal', 4, 3, 2)).toEqual([4, 3, 0]);
    for (const axis of AXES) {
      const { width, height, count } = sliceShape(dims, axis);
      for (let index = 0; index < count; index++) {
        const slice = extractSlice(volume, dims, axis, index);
        expect(slice).toBeInstanceOf(Int16Array);
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const [i, j, k] = sliceToVoxel(dims, axis, index, x, y);
            expect(slice[y * width + x]).toBe(volume[voxelIndex(dims, i, j, k)]);
            expect(voxelToSlice(dims, axis, i, j, k)).toEqual({ index, x, y });
          }
        }
      }
    }
  });

  it('round-trips every slice of a real volume along all three axes', () => {
    const aal = readNifti(dataFile(DATA.aal));
    for (const axis of AXES) {
      const rebuilt = new Uint8Array(aal.data.length);
      const { count } = sliceShape(aal.dims, axis);
      for (let index = 0; index < count; index++) insertSlice(rebuilt, aal.dims, axis, index, extractSlice(aal.data, aal.dims, axis, index));
      expect(firstDifference(rebuilt, aal.data), axis).toBe(-1);
    }
  });

  it('gives radiological views of an LPS-ordered volume (anterior up, patient right on the left, superior up)', () => {
    const { volume: lps } = reorient(readNifti(dataFile(DATA.ch2)), 'LPS');
    const world = (axis: 'axial' | 'coronal' | 'sagittal', x: number, y: number) => {
      const { count } = sliceShape(lps.dims, axis);
      const [i, j, k] = sliceToVoxel(lps.dims, axis, Math.floor(count / 2), x, y);
      return voxelToWorld(lps.affine, i, j, k); // RAS mm
    };
    // Axial: +x on screen goes to patient's left (RAS x decreases), +y (down) goes posterior.
    expect(world('axial', 1, 0)[0]).toBeLessThan(world('axial', 0, 0)[0]);
    expect(world('axial', 0, 1)[1]).toBeLessThan(world('axial', 0, 0)[1]);
    // Coronal: down is inferior; sagittal: right is posterior, down is inferior.
    expect(world('coronal', 0, 1)[2]).toBeLessThan(world('coronal', 0, 0)[2]);
    expect(world('sagittal', 1, 0)[1]).toBeLessThan(world('sagittal', 0, 0)[1]);
    expect(world('sagittal', 0, 1)[2]).toBeLessThan(world('sagittal', 0, 0)[2]);
  });

  it('writes 2D masks back as labels, replacing that label on the slice', () => {
    for (const axis of AXES) {
      const labels = new Uint8Array(60);
      const { width, height } = sliceShape(dims, axis);
      const mask = new Uint8Array(width * height).map((_, p) => (p % 3 === 0 ? 1 : 0));
      // Two voxels of another object: one under the mask (overwritten: last object wins), one not.
      const under = voxelIndex(dims, ...sliceToVoxel(dims, axis, 1, 0, 0)); // pixel 0: mask = 1
      const beside = voxelIndex(dims, ...sliceToVoxel(dims, axis, 1, 1, 0)); // pixel 1: mask = 0
      labels[under] = 2;
      labels[beside] = 2;
      writeMaskSlice(labels, dims, axis, 1, mask, 5);
      expect([labels[under], labels[beside]]).toEqual([5, 2]);
      const back = extractLabelMask(labels, dims, axis, 1, 5);
      expect(Array.from(back)).toEqual(Array.from(mask));
      // Other slices untouched.
      expect(labels.reduce((n, v) => n + (v === 5 ? 1 : 0), 0)).toBe(mask.reduce((n, v) => n + v, 0));
      // Writing an empty mask clears label 5 on that slice only.
      writeMaskSlice(labels, dims, axis, 1, new Uint8Array(width * height), 5);
      expect(labels.includes(5)).toBe(false);
      expect(labels[beside]).toBe(2);
    }
    expect(slicePixelSpacing([0.5, 0.7, 3], 'coronal')).toEqual([0.5, 3]);
  });

  it('rejects bad indices, sizes and axis names', () => {
    expect(() => extractSlice(volume, dims, 'axial', 3)).toThrow('axial slice index 3 is out of range: the volume has 3 axial slices (0..2)');
    expect(() => extractSlice(volume, dims, 'sagittal', -1)).toThrow(/sagittal slice index -1 is out of range/);
    expect(() => insertSlice(volume, dims, 'axial', 0, new Int16Array(3))).toThrow(/slice has 3 values, a axial slice is 5×4 = 20/);
    expect(() => writeMaskSlice(new Uint8Array(60), dims, 'axial', 0, new Uint8Array(20), 0)).toThrow(/label must be a positive integer/);
    expect(() => extractSlice(new Int16Array(10), dims, 'axial', 0)).toThrow(/volume data has 10 values/);
    expect(parseAxis('Coronal')).toBe('coronal');
    expect(() => parseAxis('transverse')).toThrow(/unknown slice axis "transverse"/);
  });
});
