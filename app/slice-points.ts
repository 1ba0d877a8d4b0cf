// Continuous coordinates between the volume's (LPS) voxel grid and slice pixels, following
// src/volume/slicing.ts: pixel (x, y) of a slice covers [x, x + 1) × [y, y + 1), so a voxel centre
// sits at pixel x + 0.5; coronal and sagittal rows run from the top (highest k) down. Prompts are
// given to the engine in these slice pixels, and the viewer works in voxels (through millimetres).
import type { Axis } from '../src/volume/index.js';

export type Vec3 = [number, number, number];

/** Slice index and continuous slice pixel of a continuous voxel position (voxel centres at integers). */
export function voxelToSlicePoint(dims: readonly number[], axis: Axis, v: Vec3): { index: number; x: number; y: number } {
  const [i, j, k] = v;
  const nz = dims[2];
  if (axis === 'axial') return { index: Math.round(k), x: i + 0.5, y: j + 0.5 };
  if (axis === 'coronal') return { index: Math.round(j), x: i + 0.5, y: nz - 0.5 - k };
  return { index: Math.round(i), x: j + 0.5, y: nz - 0.5 - k };
}

/** Continuous voxel position of slice pixel (x, y) on slice `index`. */
export function slicePointToVoxel(dims: readonly number[], axis: Axis, index: number, x: number, y: number): Vec3 {
  const nz = dims[2];
  if (axis === 'axial') return [x - 0.5, y - 0.5, index];
  if (axis === 'coronal') return [x - 0.5, index, nz - 0.5 - y];
  return [index, x - 0.5, nz - 0.5 - y];
}

/** The nearest voxel inside the grid. */
export function clampVoxel(dims: readonly number[], v: Vec3): Vec3 {
  return v.map((c, a) => Math.min(dims[a] - 1, Math.max(0, Math.round(c)))) as Vec3;
}
