// Prompt simulation from a ground-truth label volume, for evaluating promptable 3D segmentation.
// Protocol:
// 1. Key slice: along the chosen axis, the slice where the structure's area is largest (ties: the
//    one nearest the middle of the structure's slice range, then the lower index). MedSAM2 (Ma et
//    al. 2025, "MedSAM2: Segment Anything in 3D Medical Images and Videos") prompts one key slice
//    per lesion/organ and propagates to both ends of the volume.
// 2. Box: the tight bounding box of the GT mask on the key slice, [x0, y0, x1, y1] with inclusive
//    pixel corners, optionally grown on every side by one random shift in [0, jitter] pixels and
//    clamped to the image (MedSAM's mask2D_to_bbox, Ma et al. 2024, Nat. Commun. 15:654). The
//    default jitter is 0; the random source is a seeded generator so runs are reproducible.
// 3. Clicks: the first click is the mask pixel farthest from the mask boundary (maximum of the
//    in-slice EDT, image border counting as background). Further clicks come from the error region
//    of a predicted mask: the pixel farthest from the boundary of the larger of the false-negative
//    and false-positive regions, positive for false negatives, negative for false positives
//    (Xu et al. 2016, "Deep Interactive Object Selection"; Sofiiuk et al. 2022, "Reviving Iterative
//    Training with Mask Guidance for Interactive Segmentation" (RITM); the SAM paper, Kirillov et
//    al. 2023, §7.1, uses the same rule). Distances are in pixels of the slice image; ties go to the
//    first pixel in row-major order (numpy's np.where order).

import { extractLabelMask, sliceShape, type Axis } from '../volume/slicing.js';
import type { Box, Point } from '../volume/validate.js';
import type { VoxelData } from '../volume/volume.js';
import { squaredDistanceTransform } from './edt.js';

/** Mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Number of voxels of `label` on every slice along `axis`. */
export function sliceAreas(labels: VoxelData, dims: readonly number[], axis: Axis, label: number): Int32Array {
  const [nx, ny, nz] = dims;
  const { count } = sliceShape(dims, axis);
  const areas = new Int32Array(count);
  let v = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        if (labels[v] !== label) continue;
        areas[axis === 'axial' ? k : axis === 'coronal' ? j : i]++;
      }
    }
  }
  return areas;
}

export interface KeySlice {
  index: number;
  area: number;
  /** First and last slice where the structure appears. */
  range: [number, number];
}

export function findKeySlice(labels: VoxelData, dims: readonly number[], axis: Axis, label: number): KeySlice {
  const areas = sliceAreas(labels, dims, axis, label);
  let first = -1;
  let last = -1;
  let best = 0;
  for (let s = 0; s < areas.length; s++) {
    if (areas[s] === 0) continue;
    if (first < 0) first = s;
    last = s;
    best = Math.max(best, areas[s]);
  }
  if (first < 0) throw new Error(`label ${label} does not occur in the volume`);
  const middle = (first + last) / 2;
  let index = -1;
  for (let s = first; s <= last; s++) {
    if (areas[s] !== best) continue;
    if (index < 0 || Math.abs(s - middle) < Math.abs(index - middle)) index = s;
  }
  return { index, area: best, range: [first, last] };
}

/** Tight box of the non-zero pixels, grown by one random shift in [0, jitter] and clamped. */
export function boxFromMask(mask: ArrayLike<number>, width: number, height: number, jitter = 0, random: () => number = seededRandom(0)): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) throw new Error('cannot make a box from an empty mask');
  if (!(jitter >= 0) || !Number.isInteger(jitter)) throw new Error(`box jitter must be a non-negative integer, got ${jitter}`);
  const shift = jitter > 0 ? Math.floor(random() * (jitter + 1)) : 0;
  return [Math.max(0, x0 - shift), Math.max(0, y0 - shift), Math.min(width - 1, x1 + shift), Math.min(height - 1, y1 + shift)];
}

/**
 * Distance (pixels) from every pixel of `region` to the nearest pixel outside it, the image border
 * counting as outside (RITM pads the mask with one background pixel before its distance transform).
 */
export function distanceToBoundary(region: ArrayLike<number>, width: number, height: number): Float64Array {
  const pw = width + 2;
  const ph = height + 2;
  const outside = new Uint8Array(pw * ph).fill(1);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (region[y * width + x]) outside[(y + 1) * pw + x + 1] = 0;
  const d2 = squaredDistanceTransform(outside, [pw, ph, 1], [1, 1, 1]);
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = Math.sqrt(d2[(y + 1) * pw + x + 1]);
  return out;
}

function argmaxExcluding(d: Float64Array, width: number, exclude: readonly Point[]): { index: number; value: number } {
  const skip = new Set(exclude.map((p) => Math.round(p.y) * width + Math.round(p.x)));
  let index = -1;
  let value = 0;
  for (let i = 0; i < d.length; i++) {
    if (d[i] > value && !skip.has(i)) {
      value = d[i];
      index = i;
    }
  }
  return { index, value };
}

/** First click: the mask pixel farthest from the mask boundary (positive). */
export function centerClick(mask: ArrayLike<number>, width: number, height: number): Point {
  const { index } = argmaxExcluding(distanceToBoundary(mask, width, height), width, []);
  if (index < 0) throw new Error('cannot place a click in an empty mask');
  return { x: index % width, y: Math.floor(index / width), label: 1 };
}

/**
 * Next corrective click from the errors of `pred` against `gt`: inside the false-negative region
 * (positive) or the false-positive region (negative), whichever has the deeper interior point.
 * Returns null when the prediction is already perfect. `previous` clicks are never repeated.
 */
export function correctiveClick(
  gt: ArrayLike<number>,
  pred: ArrayLike<number>,
  width: number,
  height: number,
  previous: readonly Point[] = [],
): Point | null {
  const n = width * height;
  const fn = new Uint8Array(n);
  const fp = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const g = !!gt[i];
    const p = !!pred[i];
    fn[i] = g && !p ? 1 : 0;
    fp[i] = p && !g ? 1 : 0;
  }
  const a = argmaxExcluding(distanceToBoundary(fn, width, height), width, previous);
  const b = argmaxExcluding(distanceToBoundary(fp, width, height), width, previous);
  if (a.index < 0 && b.index < 0) return null;
  const positive = a.value > b.value;
  const index = positive ? a.index : b.index;
  return { x: index % width, y: Math.floor(index / width), label: positive ? 1 : 0 };
}

export interface SimulatedPrompt {
  label: number;
  axis: Axis;
  /** Key slice index along `axis`. */
  sliceIndex: number;
  /** Slice range where the structure appears. */
  range: [number, number];
  width: number;
  height: number;
  /** GT mask (0/1) on the key slice. */
  mask: Uint8Array;
  box: Box;
  /** The first (centre) click; add corrective ones with correctiveClick(). */
  points: Point[];
}

/** Key slice, its GT mask, a box and the first click for one structure. */
export function simulatePrompt(
  labels: VoxelData,
  dims: readonly number[],
  axis: Axis,
  label: number,
  options: { jitter?: number; seed?: number } = {},
): SimulatedPrompt {
  const key = findKeySlice(labels, dims, axis, label);
  const { width, height } = sliceShape(dims, axis);
  const mask = extractLabelMask(labels, dims, axis, key.index, label);
  // Each structure gets its own stream, so adding a structure does not change the others' boxes.
  const random = seededRandom(Math.imul((options.seed ?? 0) >>> 0, 0x9e3779b1) ^ label);
  const box = boxFromMask(mask, width, height, options.jitter ?? 0, random);
  return {
    label,
    axis,
    sliceIndex: key.index,
    range: key.range,
    width,
    height,
    mask,
    box,
    points: [centerClick(mask, width, height)],
  };
}
