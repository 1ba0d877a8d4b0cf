import { describe, expect, it } from 'vitest';
import { checkBox, checkPoints, checkSameGeometry, checkSliceIndex } from '../../src/volume/validate.js';
import { createVolume, diagonalAffine } from '../../src/volume/volume.js';

describe('validation helpers', () => {
  it('checkSliceIndex names the axis and the valid range', () => {
    expect(() => checkSliceIndex(10, [5, 6, 10], 'axial')).toThrow('axial slice index 10 is out of range: the volume has 10 axial slices (0..9)');
    expect(() => checkSliceIndex(6, [5, 6, 10], 'coronal')).toThrow(/the volume has 6 coronal slices \(0\.\.5\)/);
    expect(() => checkSliceIndex(1.5, [5, 6, 10], 'sagittal')).toThrow(/must be an integer, got 1.5/);
    expect(() => checkSliceIndex(4, [5, 6, 10], 'sagittal')).not.toThrow();
  });

  it('checkBox rejects boxes outside or partly outside the slice, inverted or malformed', () => {
    expect(() => checkBox([0, 0, 63, 31], 64, 32)).not.toThrow();
    expect(() => checkBox([70, 5, 80, 10], 64, 32)).toThrow('box [70, 5, 80, 10] lies outside the 64×32 slice (pixel indices x in 0..63, y in 0..31)');
    expect(() => checkBox([10, 5, 64, 10], 64, 32)).toThrow(/extends outside the 64×32 slice/);
    expect(() => checkBox([-1, 5, 10, 10], 64, 32)).toThrow(/extends outside/);
    expect(() => checkBox([10, 5, 4, 10], 64, 32)).toThrow(/is inverted/);
    expect(() => checkBox([1, 2, 3], 64, 32)).toThrow(/4 finite numbers/);
    expect(() => checkBox([1, 2, NaN, 4], 64, 32)).toThrow(/4 finite numbers/);
  });

  it('checkPoints checks coordinates and labels', () => {
    expect(() => checkPoints([{ x: 3, y: 4, label: 1 }, { x: 0, y: 0, label: 0 }], 8, 8)).not.toThrow();
    expect(() => checkPoints([{ x: 3, y: 4, label: 1 }, { x: 8, y: 0, label: 0 }], 8, 8)).toThrow('point 1 (8, 0) is outside the 8×8 slice (x in 0..7, y in 0..7)');
    expect(() => checkPoints([{ x: 3, y: 4, label: 2 as 1 }], 8, 8)).toThrow(/point 0 label must be 1 \(positive\) or 0 \(negative\)/);
    expect(() => checkPoints([], 8, 8)).toThrow(/at least one point/);
  });

  it('checkSameGeometry catches different dims, spacing and affines', () => {
    const a = createVolume({ dims: [4, 5, 6], data: new Uint8Array(120), spacing: [1, 1, 2] });
    expect(() => checkSameGeometry(a, createVolume({ dims: [4, 5, 6], data: new Uint8Array(120), spacing: [1, 1, 2] }))).not.toThrow();
    expect(() => checkSameGeometry(a, createVolume({ dims: [4, 6, 5], data: new Uint8Array(120) }))).toThrow(
      'labels do not match image: dims [4, 6, 5] vs [4, 5, 6]',
    );
    expect(() => checkSameGeometry(a, createVolume({ dims: [4, 5, 6], data: new Uint8Array(120), spacing: [1, 1, 3] }))).toThrow(
      /spacing \[1, 1, 3\] mm vs \[1, 1, 2\] mm/,
    );
    const shifted = createVolume({ dims: [4, 5, 6], data: new Uint8Array(120), affine: diagonalAffine([1, 1, 2], [0, 0.5, 0]) });
    expect(() => checkSameGeometry(a, shifted, ['CT', 'mask'])).toThrow(/mask do not match CT: same dims but the voxel→world affines differ \(voxels are displaced by up to 0\.500 mm\)/);
  });
});
