// Exact reorientation of a voxel grid by axis permutation and flips (no resampling), like nibabel's
// as_closest_canonical / SimpleITK's DICOMOrient. Slicing (slicing.ts) works in voxel index space;
// reorienting to 'LPS' first makes its "axial = k" slices true axial slices shown the radiological
// way (patient's right on the left, anterior at the top), which is also how MedSAM2's training data
// looks (SimpleITK arrays of DICOM-ordered CT). Masks go back to the source grid with toSource().

import { affineToQuatern, quaternToAffine } from './quaternion.js';
import {
  axisCodes,
  cloneNiftiGeometry,
  mat4Multiply,
  type Mat4,
  type Vec3,
  type Volume,
  type VoxelData,
} from './volume.js';

/** How to bring a voxel grid to given axis codes by permuting and flipping axes (no resampling). */
export interface Reorientation {
  /** For each target axis t, the source axis it reads from. */
  perm: Vec3;
  /** For each target axis t, whether the source axis runs backwards. */
  flip: [boolean, boolean, boolean];
  /** Grid size before. */
  sourceDims: Vec3;
  /** Grid size after. */
  targetDims: Vec3;
  /** Source voxel index (homogeneous) = M · target voxel index; target affine = source affine · M. */
  matrix: Mat4;
}

const LETTER_AXIS: Record<string, number> = { R: 0, L: 0, A: 1, P: 1, S: 2, I: 2 };

/** Plan for bringing a volume with affine `affine` and `dims` to the axis codes `target` (e.g. 'LPS', 'RAS'). */
export function planReorientation(affine: Mat4, dims: Vec3, target = 'LPS'): Reorientation {
  const want = target.toUpperCase().split('');
  if (want.length !== 3 || new Set(want.map((c) => LETTER_AXIS[c])).size !== 3 || want.some((c) => !(c in LETTER_AXIS))) {
    throw new Error(`reorient: target ${JSON.stringify(target)} must be three letters, one each of R/L, A/P, S/I (e.g. "LPS")`);
  }
  const have = axisCodes(affine);
  const perm = [0, 0, 0] as Vec3;
  const flip: [boolean, boolean, boolean] = [false, false, false];
  for (let t = 0; t < 3; t++) {
    const a = have.findIndex((c) => LETTER_AXIS[c] === LETTER_AXIS[want[t]]);
    perm[t] = a;
    flip[t] = have[a] !== want[t];
  }
  const matrix: Mat4 = [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 1],
  ];
  for (let t = 0; t < 3; t++) {
    const a = perm[t];
    matrix[a][t] = flip[t] ? -1 : 1;
    matrix[a][3] = flip[t] ? dims[a] - 1 : 0;
  }
  return { perm, flip, sourceDims: [...dims] as Vec3, targetDims: perm.map((a) => dims[a]) as Vec3, matrix };
}

/** Re-lays out voxel data according to the plan (source grid → target grid). */
export function applyReorientation<T extends VoxelData>(data: T, plan: Reorientation): T {
  return permuteFlip(data, plan.sourceDims, plan.perm, plan.flip);
}

/** Inverse of applyReorientation: target grid → source grid (e.g. for a predicted mask). */
export function invertReorientation<T extends VoxelData>(data: T, plan: Reorientation): T {
  const perm = [0, 0, 0] as Vec3;
  const flip: [boolean, boolean, boolean] = [false, false, false];
  for (let t = 0; t < 3; t++) {
    perm[plan.perm[t]] = t;
    flip[plan.perm[t]] = plan.flip[t];
  }
  return permuteFlip(data, plan.targetDims, perm, flip);
}

function permuteFlip<T extends VoxelData>(data: T, dims: Vec3, perm: Vec3, flip: boolean[]): T {
  const n = dims[0] * dims[1] * dims[2];
  if (data.length !== n) throw new Error(`reorient: data has ${data.length} values, grid [${dims.join(', ')}] needs ${n}`);
  const strides = [1, dims[0], dims[0] * dims[1]];
  const out = new (data.constructor as new (n: number) => T)(n);
  const od = perm.map((a) => dims[a]);
  // Walking the output in order, the source offset moves by a fixed step per output axis.
  const step = perm.map((a, t) => (flip[t] ? -strides[a] : strides[a]));
  const start = perm.reduce((s, a, t) => s + (flip[t] ? (dims[a] - 1) * strides[a] : 0), 0);
  let o = 0;
  for (let z = 0; z < od[2]; z++) {
    const sz = start + z * step[2];
    for (let y = 0; y < od[1]; y++) {
      let s = sz + y * step[1];
      for (let x = 0; x < od[0]; x++, s += step[0]) out[o++] = data[s];
    }
  }
  return out;
}

/**
 * The volume resampled exactly onto axis codes `target` (default 'LPS'), with its affine and NIfTI
 * geometry updated, plus the plan to map masks back with invertReorientation().
 */
export function reorient(volume: Volume, target = 'LPS'): { volume: Volume; plan: Reorientation } {
  const plan = planReorientation(volume.affine, volume.dims, target);
  const affine = mat4Multiply(volume.affine, plan.matrix);
  const g = cloneNiftiGeometry(volume.nifti);
  g.srow = mat4Multiply([...g.srow, [0, 0, 0, 1]], plan.matrix).slice(0, 3);
  const qAffine = mat4Multiply(quaternToAffine(g.quatern, g.qoffset, g.pixdim), plan.matrix);
  const q = affineToQuatern(qAffine);
  g.quatern = q.quatern;
  g.qoffset = q.qoffset;
  g.pixdim = [q.qfac, ...plan.perm.map((a) => volume.nifti.pixdim[a + 1]), ...volume.nifti.pixdim.slice(4)];
  // dim_info packs the frequency/phase/slice axes (2 bits each, 1-based); permute them too.
  g.dimInfo = permuteDimInfo(volume.nifti.dimInfo, plan.perm);
  return {
    plan,
    volume: {
      ...volume,
      dims: plan.targetDims,
      spacing: plan.perm.map((a) => volume.spacing[a]) as Vec3,
      data: applyReorientation(volume.data, plan),
      affine,
      nifti: g,
    },
  };
}

function permuteDimInfo(dimInfo: number, perm: Vec3): number {
  const remap = (axis: number) => (axis === 0 ? 0 : perm.indexOf(axis - 1) + 1);
  const freq = dimInfo & 3;
  const phase = (dimInfo >> 2) & 3;
  const slice = (dimInfo >> 4) & 3;
  return remap(freq) | (remap(phase) << 2) | (remap(slice) << 4);
}
