import { describe, expect, it } from 'vitest';
import { readNifti } from '../../src/volume/nifti.js';
import { applyReorientation, invertReorientation, planReorientation, reorient } from '../../src/volume/orientation.js';
import { affineFromNiftiGeometry, quaternToAffine } from '../../src/volume/quaternion.js';
import { axisCodes, createVolume, voxelIndex, voxelToWorld, type Mat4, type Vec3 } from '../../src/volume/volume.js';
import { firstDifference } from './helpers/arrays.js';
import { DATA, dataFile } from './helpers/data-files.js';

function maxDiff(a: Mat4, b: Mat4): number {
  let d = 0;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a[r][c] - b[r][c]));
  return d;
}

describe('reorient', () => {
  it('brings the ITK T1 (LSA) to LPS: every voxel keeps its value and world position', () => {
    const src = readNifti(dataFile(DATA.itkT1));
    const { volume: lps, plan } = reorient(src, 'LPS');
    expect(axisCodes(lps.affine)).toEqual(['L', 'P', 'S']);
    expect(lps.dims).toEqual([128, 62, 128]);
    expect(lps.spacing).toEqual([2, 3, 2]);
    // Spot-check many voxels: same value at the same world point.
    for (let n = 0; n < 500; n++) {
      const i = (n * 37) % lps.dims[0];
      const j = (n * 11) % lps.dims[1];
      const k = (n * 53) % lps.dims[2];
      const world = voxelToWorld(lps.affine, i, j, k);
      const s = plan.matrix;
      const si = s[0][0] * i + s[0][1] * j + s[0][2] * k + s[0][3];
      const sj = s[1][0] * i + s[1][1] * j + s[1][2] * k + s[1][3];
      const sk = s[2][0] * i + s[2][1] * j + s[2][2] * k + s[2][3];
      expect(lps.data[voxelIndex(lps.dims, i, j, k)]).toBe(src.data[voxelIndex(src.dims, si, sj, sk)]);
      expect(voxelToWorld(src.affine, si, sj, sk).map((x, a) => Math.abs(x - world[a]))).toEqual([0, 0, 0]);
    }
    // The NIfTI geometry follows: sform = new affine, qform close to it.
    expect(maxDiff(affineFromNiftiGeometry(lps.nifti).affine, lps.affine)).toBe(0);
    expect(maxDiff(quaternToAffine(lps.nifti.quatern, lps.nifti.qoffset, lps.nifti.pixdim), lps.affine)).toBeLessThan(1e-5);
    // And back.
    expect(firstDifference(invertReorientation(lps.data, plan), src.data)).toBe(-1);
  });

  it('RAS → LPS flips i and j of ch2 and is its own inverse on the data', () => {
    const ch2 = readNifti(dataFile(DATA.ch2));
    const { volume, plan } = reorient(ch2, 'LPS');
    expect(plan.perm).toEqual([0, 1, 2]);
    expect(plan.flip).toEqual([true, true, false]);
    expect(volume.affine[0][3]).toBe(90); // voxel 0 is now at the right-most (x = +90) column, read as L
    expect(volume.data[voxelIndex(volume.dims, 0, 0, 50)]).toBe(ch2.data[voxelIndex(ch2.dims, 180, 216, 50)]);
    expect(firstDifference(applyReorientation(volume.data, plan), ch2.data)).toBe(-1);
  });

  it('inverts every permutation/flip on a random grid', () => {
    const dims: Vec3 = [3, 4, 5];
    const data = new Int16Array(60).map((_, i) => i * 13 - 200);
    const affines: Mat4[] = [
      [[0, 0, -1, 0], [1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1]],
      [[0, 2, 0, 0], [0, 0, 3, 0], [-1, 0, 0, 0], [0, 0, 0, 1]],
    ];
    for (const affine of affines) {
      for (const target of ['LPS', 'RAS', 'SAL', 'IPR']) {
        const vol = createVolume({ dims, data, affine });
        const { volume, plan } = reorient(vol, target);
        expect(axisCodes(volume.affine).join('')).toBe(target);
        expect(firstDifference(invertReorientation(volume.data, plan), data)).toBe(-1);
        // Voxel (0,0,0) of the result sits where the plan says in the source.
        const w0 = voxelToWorld(volume.affine, 0, 0, 0);
        const src = [0, 1, 2].map((r) => plan.matrix[r][3]);
        expect(voxelToWorld(affine, src[0], src[1], src[2])).toEqual(w0);
      }
    }
    expect(() => planReorientation(affines[0], dims, 'LLS')).toThrow(/one each of R\/L, A\/P, S\/I/);
  });
});
