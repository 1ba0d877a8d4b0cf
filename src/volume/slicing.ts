// 2D slices of a voxel grid along one axis, and 2D masks written back into a 3D label volume.
//
// Axes are defined in voxel index space (not world space):
//   axial    = fixed k (count nz), image width nx, height ny:  pixel (x, y) = voxel (x, y, index)
//   coronal  = fixed j (count ny), image width nx, height nz:  pixel (x, y) = voxel (x, index, nz-1-y)
//   sagittal = fixed i (count nx), image width ny, height nz:  pixel (x, y) = voxel (index, x, nz-1-y)
// Slices are row-major (pixel (x, y) at y * width + x). Coronal and sagittal rows run from the
// highest k down so that, for a grid whose k points superior, the head is at the top. For a volume
// in LPS order (see orientation.ts reorient(v, 'LPS')) this gives the radiological display of every
// view: patient's right on the image's left, anterior at the top of axial slices, anterior on the
// left of sagittal slices, superior at the top of coronal/sagittal slices. For other storage orders
// the names only describe which voxel index is fixed.

import type { Vec3, VoxelData } from './volume.js';

/** Slice direction: which voxel index is fixed (see the conventions above). */
export type Axis = 'axial' | 'coronal' | 'sagittal';
/** The three slice directions. */
export const AXES: readonly Axis[] = ['axial', 'coronal', 'sagittal'];

/** Size and number of the slices along one axis. */
export interface SliceShape {
  /** Slice width in pixels. */
  width: number;
  /** Slice height in pixels. */
  height: number;
  /** Number of slices along the axis. */
  count: number;
}

/** 'axial' | 'coronal' | 'sagittal' from user input (any case); throws naming the valid ones. */
export function parseAxis(name: string): Axis {
  const a = name.toLowerCase();
  if (a === 'axial' || a === 'coronal' || a === 'sagittal') return a;
  throw new Error(`unknown slice axis ${JSON.stringify(name)}; expected one of axial, coronal, sagittal`);
}

/** Width, height and count of the slices of a grid `dims` along `axis`. */
export function sliceShape(dims: readonly number[], axis: Axis): SliceShape {
  const [nx, ny, nz] = dims;
  if (axis === 'axial') return { width: nx, height: ny, count: nz };
  if (axis === 'coronal') return { width: nx, height: nz, count: ny };
  return { width: ny, height: nz, count: nx };
}

/** Voxel (i, j, k) of pixel (x, y) on slice `index`. */
export function sliceToVoxel(dims: readonly number[], axis: Axis, index: number, x: number, y: number): Vec3 {
  const nz = dims[2];
  if (axis === 'axial') return [x, y, index];
  if (axis === 'coronal') return [x, index, nz - 1 - y];
  return [index, x, nz - 1 - y];
}

/** Slice index and pixel (x, y) of voxel (i, j, k). */
export function voxelToSlice(dims: readonly number[], axis: Axis, i: number, j: number, k: number): { index: number; x: number; y: number } {
  const nz = dims[2];
  if (axis === 'axial') return { index: k, x: i, y: j };
  if (axis === 'coronal') return { index: j, x: i, y: nz - 1 - k };
  return { index: i, x: j, y: nz - 1 - k };
}

/** Pixel size [along x, along y] in mm of slices along `axis`. */
export function slicePixelSpacing(spacing: readonly number[], axis: Axis): [number, number] {
  if (axis === 'axial') return [spacing[0], spacing[1]];
  if (axis === 'coronal') return [spacing[0], spacing[2]];
  return [spacing[1], spacing[2]];
}

/**
 * Walk of a slice in pixel order expressed as volume offsets: offset of pixel (0, 0), step per +x,
 * step per +y. Every slice function below goes through this so they agree by construction.
 */
function sliceWalk(dims: readonly number[], axis: Axis, index: number): { base: number; dx: number; dy: number } {
  const [nx, ny, nz] = dims;
  const sj = nx;
  const sk = nx * ny;
  checkIndex(dims, axis, index);
  if (axis === 'axial') return { base: index * sk, dx: 1, dy: sj };
  if (axis === 'coronal') return { base: index * sj + (nz - 1) * sk, dx: 1, dy: -sk };
  return { base: index + (nz - 1) * sk, dx: sj, dy: -sk };
}

function checkIndex(dims: readonly number[], axis: Axis, index: number): void {
  const { count } = sliceShape(dims, axis);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new Error(`${axis} slice index ${index} is out of range: the volume has ${count} ${axis} slices (0..${count - 1})`);
  }
}

/** Copies slice `index` along `axis` into a new array of the same type as `data` (or into `out`). */
export function extractSlice<T extends VoxelData>(data: T, dims: readonly number[], axis: Axis, index: number, out?: T): T {
  checkVolumeLength(data, dims);
  const { width, height } = sliceShape(dims, axis);
  const { base, dx, dy } = sliceWalk(dims, axis, index);
  const result = out ?? new (data.constructor as new (n: number) => T)(width * height);
  if (result.length !== width * height) throw new Error(`extractSlice: output has ${result.length} values, slice needs ${width * height}`);
  let o = 0;
  for (let y = 0; y < height; y++) {
    let s = base + y * dy;
    for (let x = 0; x < width; x++, s += dx) result[o++] = data[s];
  }
  return result;
}

/** Writes a full slice (same layout as extractSlice returns) into the volume. */
export function insertSlice(data: VoxelData, dims: readonly number[], axis: Axis, index: number, slice: ArrayLike<number>): void {
  checkVolumeLength(data, dims);
  const { width, height } = sliceShape(dims, axis);
  if (slice.length !== width * height) {
    throw new Error(`insertSlice: slice has ${slice.length} values, a ${axis} slice is ${width}×${height} = ${width * height}`);
  }
  const { base, dx, dy } = sliceWalk(dims, axis, index);
  let o = 0;
  for (let y = 0; y < height; y++) {
    let s = base + y * dy;
    for (let x = 0; x < width; x++, s += dx) data[s] = slice[o++];
  }
}

export interface WriteMaskOptions {
  /** Voxels of this slice already holding `label` but outside the mask are reset to 0 (default true),
   * so writing a slice twice replaces rather than accumulates. */
  clear?: boolean;
}

/**
 * Paints a 2D binary mask (non-zero = inside) as `label` into a 3D label volume along `axis`.
 * Voxels of other labels under the mask are overwritten: the last object written wins.
 */
export function writeMaskSlice(
  labels: VoxelData,
  dims: readonly number[],
  axis: Axis,
  index: number,
  mask: ArrayLike<number>,
  label: number,
  options: WriteMaskOptions = {},
): void {
  checkVolumeLength(labels, dims);
  const { width, height } = sliceShape(dims, axis);
  if (mask.length !== width * height) {
    throw new Error(`writeMaskSlice: mask has ${mask.length} values, a ${axis} slice is ${width}×${height} = ${width * height}`);
  }
  if (!Number.isInteger(label) || label < 1) throw new Error(`writeMaskSlice: label must be a positive integer, got ${label}`);
  const clear = options.clear ?? true;
  const { base, dx, dy } = sliceWalk(dims, axis, index);
  let o = 0;
  for (let y = 0; y < height; y++) {
    let s = base + y * dy;
    for (let x = 0; x < width; x++, s += dx, o++) {
      if (mask[o]) labels[s] = label;
      else if (clear && labels[s] === label) labels[s] = 0;
    }
  }
}

/** Binary slice (1 where the volume equals `label`) along `axis`. */
export function extractLabelMask(labels: VoxelData, dims: readonly number[], axis: Axis, index: number, label: number): Uint8Array {
  checkVolumeLength(labels, dims);
  const { width, height } = sliceShape(dims, axis);
  const { base, dx, dy } = sliceWalk(dims, axis, index);
  const out = new Uint8Array(width * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    let s = base + y * dy;
    for (let x = 0; x < width; x++, s += dx) out[o++] = labels[s] === label ? 1 : 0;
  }
  return out;
}

function checkVolumeLength(data: ArrayLike<number>, dims: readonly number[]): void {
  const n = dims[0] * dims[1] * dims[2];
  if (data.length !== n) throw new Error(`volume data has ${data.length} values but dims [${dims.join(', ')}] need ${n}`);
}
