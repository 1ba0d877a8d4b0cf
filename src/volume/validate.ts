// Input checks the CLI and app call before running the model: each throws an Error whose message
// names the bad value and the valid range. Coordinates are slice pixel indices as produced by
// slicing.ts (x = column, y = row, 0-based); boxes are [x0, y0, x1, y1] with inclusive corners,
// as in MedSAM's mask2D_to_bbox.

import { sliceShape, type Axis } from './slicing.js';
import type { Mat4, Vec3 } from './volume.js';

/** A box [x0, y0, x1, y1] in slice pixels, inclusive corners. */
export type Box = [number, number, number, number];

/** A click on a slice, in pixels. */
export interface Point {
  /** Column (0-based). */
  x: number;
  /** Row (0-based). */
  y: number;
  /** 1 = positive (foreground) click, 0 = negative (background) click. */
  label: 0 | 1;
}

export function checkSliceIndex(index: number, dims: readonly number[], axis: Axis): void {
  const { count } = sliceShape(dims, axis);
  if (!Number.isInteger(index)) throw new Error(`${axis} slice index must be an integer, got ${index}`);
  if (index < 0 || index >= count) {
    throw new Error(`${axis} slice index ${index} is out of range: the volume has ${count} ${axis} slices (0..${count - 1})`);
  }
}

export function checkBox(box: readonly number[], width: number, height: number): asserts box is Box {
  if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => Number.isFinite(v))) {
    throw new Error(`box must be 4 finite numbers [x0, y0, x1, y1], got ${JSON.stringify(box)}`);
  }
  const [x0, y0, x1, y1] = box;
  if (x0 > x1 || y0 > y1) throw new Error(`box [${box.join(', ')}] is inverted: need x0 <= x1 and y0 <= y1`);
  if (x0 < 0 || y0 < 0 || x1 > width - 1 || y1 > height - 1) {
    const where = x1 < 0 || y1 < 0 || x0 > width - 1 || y0 > height - 1 ? 'lies outside' : 'extends outside';
    throw new Error(
      `box [${box.join(', ')}] ${where} the ${width}×${height} slice (pixel indices x in 0..${width - 1}, y in 0..${height - 1})`,
    );
  }
}

export function checkPoints(points: readonly Point[], width: number, height: number): void {
  if (!Array.isArray(points) || points.length === 0) throw new Error('at least one point is required');
  points.forEach((p, n) => {
    if (!p || !Number.isFinite(p.x) || !Number.isFinite(p.y)) throw new Error(`point ${n} must have finite x and y, got ${JSON.stringify(p)}`);
    if (p.label !== 0 && p.label !== 1) throw new Error(`point ${n} label must be 1 (positive) or 0 (negative), got ${JSON.stringify(p.label)}`);
    if (p.x < 0 || p.y < 0 || p.x > width - 1 || p.y > height - 1) {
      throw new Error(`point ${n} (${p.x}, ${p.y}) is outside the ${width}×${height} slice (x in 0..${width - 1}, y in 0..${height - 1})`);
    }
  });
}

export interface GeometryLike {
  dims: readonly number[];
  spacing?: readonly number[];
  affine?: Mat4;
}

/**
 * Throws unless two volumes share a grid: same dims, and (when both have them) spacing and affine
 * equal within `toleranceMm` (default 1e-3 mm, enough for float32 header round-off).
 */
export function checkSameGeometry(a: GeometryLike, b: GeometryLike, names: [string, string] = ['image', 'labels'], toleranceMm = 1e-3): void {
  const [na, nb] = names;
  if (a.dims.length !== 3 || b.dims.length !== 3 || a.dims.some((d, i) => d !== b.dims[i])) {
    throw new Error(`${nb} do not match ${na}: dims [${b.dims.join(', ')}] vs [${a.dims.join(', ')}]`);
  }
  if (a.spacing && b.spacing) {
    for (let i = 0; i < 3; i++) {
      if (Math.abs(a.spacing[i] - b.spacing[i]) > toleranceMm) {
        throw new Error(
          `${nb} do not match ${na}: spacing [${fmt(b.spacing)}] mm vs [${fmt(a.spacing)}] mm`,
        );
      }
    }
  }
  if (a.affine && b.affine) {
    // Compare where the grid's corners land, which bounds every voxel's displacement.
    let worst = 0;
    const corners: Vec3[] = [];
    for (const i of [0, a.dims[0] - 1]) for (const j of [0, a.dims[1] - 1]) for (const k of [0, a.dims[2] - 1]) corners.push([i, j, k]);
    for (const [i, j, k] of corners) {
      for (let r = 0; r < 3; r++) {
        const pa = a.affine[r][0] * i + a.affine[r][1] * j + a.affine[r][2] * k + a.affine[r][3];
        const pb = b.affine[r][0] * i + b.affine[r][1] * j + b.affine[r][2] * k + b.affine[r][3];
        worst = Math.max(worst, Math.abs(pa - pb));
      }
    }
    if (!(worst <= toleranceMm)) {
      throw new Error(
        `${nb} do not match ${na}: same dims but the voxel→world affines differ (voxels are displaced by up to ${worst.toPrecision(3)} mm)`,
      );
    }
  }
}

function fmt(v: readonly number[]): string {
  return v.map((x) => +x.toFixed(4)).join(', ');
}
