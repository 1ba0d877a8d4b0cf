// Overlap and surface metrics of a predicted label volume against a ground-truth label volume,
// per structure (label value). Definitions (voxel-surface version, as MONAI's
// compute_surface_dice / compute_hausdorff_distance):
// - Dice = 2|P∩G| / (|P| + |G|), IoU = |P∩G| / |P∪G|.
// - Surface ∂M = voxels of M with at least one of their 6 neighbours outside M (voxels on the volume
//   border count as surface: outside the volume is background).
// - d(x, ∂M) = Euclidean distance in mm between voxel centres, from an exact EDT (edt.ts).
// - NSD(τ) = (#{p ∈ ∂P : d(p, ∂G) ≤ τ} + #{g ∈ ∂G : d(g, ∂P) ≤ τ}) / (|∂P| + |∂G|)
//   (Nikolov et al. 2021, "Clinically applicable segmentation of head and neck anatomy for
//   radiotherapy"; DeepMind's surface-distance package weights surface elements by area instead of
//   counting voxels, so its numbers differ slightly).
// - HD95 = max(P95 of d(∂P → ∂G), P95 of d(∂G → ∂P)), numpy 'linear' percentile; HD = same with max.
// - ASSD = mean of all distances of both directions.
// Empty masks: both empty → Dice = IoU = NSD = 1, HD95 = HD = ASSD = NaN (undefined: nothing to
// measure). Exactly one empty → Dice = IoU = NSD = 0, HD95 = HD = ASSD = Infinity.

import type { Volume } from '../volume/volume.js';
import { checkSameGeometry } from '../volume/validate.js';
import { squaredDistanceTransform } from './edt.js';

export type EmptyCase = 'none' | 'both' | 'prediction' | 'ground-truth';

export interface SegmentationMetrics {
  dice: number;
  iou: number;
  /** Normalized surface distance (surface Dice) at `nsdToleranceMm`. */
  nsd: number;
  hd95: number;
  hd: number;
  assd: number;
  predVoxels: number;
  gtVoxels: number;
  intersection: number;
  /** Which masks were empty (explains NaN / Infinity values). */
  empty: EmptyCase;
}

export interface LabelMetrics extends SegmentationMetrics {
  label: number;
}

export interface MetricOptions {
  /** NSD tolerance in mm (default 2, as in MedSAM's evaluation). */
  nsdToleranceMm?: number;
}

/**
 * 1 where a mask voxel has a 6-neighbour outside the mask or outside the grid. Axes of length 1
 * have no neighbours, so a [w, h, 1] grid gets 2D (4-neighbour) surfaces.
 */
export function surfaceVoxels(mask: ArrayLike<number>, dims: readonly number[]): Uint8Array {
  const [nx, ny, nz] = dims;
  const sy = nx;
  const sz = nx * ny;
  const out = new Uint8Array(mask.length);
  const hasX = nx > 1;
  const hasY = ny > 1;
  const hasZ = nz > 1;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      let v = z * sz + y * sy;
      for (let x = 0; x < nx; x++, v++) {
        if (!mask[v]) continue;
        const edge =
          (hasX && (x === 0 || x === nx - 1 || !mask[v - 1] || !mask[v + 1])) ||
          (hasY && (y === 0 || y === ny - 1 || !mask[v - sy] || !mask[v + sy])) ||
          (hasZ && (z === 0 || z === nz - 1 || !mask[v - sz] || !mask[v + sz]));
        out[v] = edge ? 1 : 0;
      }
    }
  }
  return out;
}

/** For each voxel of surface `from` (in voxel order), the distance in mm to the nearest voxel of surface `to`. */
export function surfaceDistances(from: Uint8Array, to: Uint8Array, dims: readonly number[], spacing: readonly number[]): Float64Array {
  const d2 = squaredDistanceTransform(to, dims, spacing);
  let count = 0;
  for (let v = 0; v < from.length; v++) if (from[v]) count++;
  const out = new Float64Array(count);
  let n = 0;
  for (let v = 0; v < from.length; v++) if (from[v]) out[n++] = Math.sqrt(d2[v]);
  return out;
}

/** numpy.percentile (linear) of the values; NaN for an empty list. Sorts a copy. */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const pos = (p / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const t = pos - lo;
  const d = s[hi] - s[lo];
  return t >= 0.5 ? s[hi] - d * (1 - t) : s[lo] + d * t;
}

/** Metrics of two binary masks (non-zero = inside) on one grid. */
export function binaryMetrics(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  dims: readonly number[],
  spacing: readonly number[],
  options: MetricOptions = {},
): SegmentationMetrics {
  const n = dims[0] * dims[1] * dims[2];
  if (pred.length !== n || gt.length !== n) {
    throw new Error(`metrics: masks have ${pred.length} and ${gt.length} values, dims [${dims.join(', ')}] need ${n}`);
  }
  const tol = options.nsdToleranceMm ?? 2;
  let predVoxels = 0;
  let gtVoxels = 0;
  let intersection = 0;
  for (let v = 0; v < n; v++) {
    const p = pred[v] ? 1 : 0;
    const g = gt[v] ? 1 : 0;
    predVoxels += p;
    gtVoxels += g;
    intersection += p & g;
  }
  const counts = { predVoxels, gtVoxels, intersection };
  if (predVoxels === 0 && gtVoxels === 0) {
    return { dice: 1, iou: 1, nsd: 1, hd95: NaN, hd: NaN, assd: NaN, ...counts, empty: 'both' };
  }
  if (predVoxels === 0 || gtVoxels === 0) {
    return {
      dice: 0,
      iou: 0,
      nsd: 0,
      hd95: Infinity,
      hd: Infinity,
      assd: Infinity,
      ...counts,
      empty: predVoxels === 0 ? 'prediction' : 'ground-truth',
    };
  }
  const dice = (2 * intersection) / (predVoxels + gtVoxels);
  const iou = intersection / (predVoxels + gtVoxels - intersection);
  const sp = surfaceVoxels(pred, dims);
  const sg = surfaceVoxels(gt, dims);
  const dpg = surfaceDistances(sp, sg, dims, spacing);
  const dgp = surfaceDistances(sg, sp, dims, spacing);
  let within = 0;
  let sum = 0;
  let hd = 0;
  for (const list of [dpg, dgp]) {
    for (let i = 0; i < list.length; i++) {
      const d = list[i];
      if (d <= tol) within++;
      sum += d;
      if (d > hd) hd = d;
    }
  }
  return {
    dice,
    iou,
    nsd: within / (dpg.length + dgp.length),
    hd95: Math.max(percentile(dpg, 95), percentile(dgp, 95)),
    hd,
    assd: sum / (dpg.length + dgp.length),
    ...counts,
    empty: 'none',
  };
}

interface Box3 {
  lo: [number, number, number];
  hi: [number, number, number];
}

function labelBoxes(labels: ArrayLike<number>, dims: readonly number[], boxes: Map<number, Box3>): void {
  const [nx, ny, nz] = dims;
  let v = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, v++) {
        const l = labels[v];
        if (!l) continue;
        let b = boxes.get(l);
        if (!b) {
          b = { lo: [x, y, z], hi: [x, y, z] };
          boxes.set(l, b);
        } else {
          if (x < b.lo[0]) b.lo[0] = x;
          if (x > b.hi[0]) b.hi[0] = x;
          if (y < b.lo[1]) b.lo[1] = y;
          if (y > b.hi[1]) b.hi[1] = y;
          if (z < b.lo[2]) b.lo[2] = z;
          if (z > b.hi[2]) b.hi[2] = z;
        }
      }
    }
  }
}

/**
 * Per-label metrics of two label volumes on the same grid. `labels` defaults to every non-zero
 * value found in either volume. Each label is evaluated inside the bounding box of both masks
 * grown by one voxel, which gives the same result as the whole grid (a target surface voxel
 * is never outside it, and cropped-away neighbours are background either way) much faster.
 */
export function evaluateLabelMaps(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  dims: readonly number[],
  spacing: readonly number[],
  options: MetricOptions & { labels?: number[] } = {},
): LabelMetrics[] {
  const n = dims[0] * dims[1] * dims[2];
  if (pred.length !== n || gt.length !== n) {
    throw new Error(`metrics: label volumes have ${pred.length} and ${gt.length} values, dims [${dims.join(', ')}] need ${n}`);
  }
  const predBoxes = new Map<number, Box3>();
  const gtBoxes = new Map<number, Box3>();
  labelBoxes(pred, dims, predBoxes);
  labelBoxes(gt, dims, gtBoxes);
  const labels = options.labels ?? [...new Set([...predBoxes.keys(), ...gtBoxes.keys()])].sort((a, b) => a - b);
  return labels.map((label) => {
    const boxes = [predBoxes.get(label), gtBoxes.get(label)].filter((b): b is Box3 => !!b);
    if (boxes.length === 0) {
      return { label, ...binaryMetrics(new Uint8Array(8), new Uint8Array(8), [2, 2, 2], spacing, options) };
    }
    const lo = [0, 1, 2].map((a) => Math.max(0, Math.min(...boxes.map((b) => b.lo[a])) - 1));
    const hi = [0, 1, 2].map((a) => Math.min(dims[a] - 1, Math.max(...boxes.map((b) => b.hi[a])) + 1));
    const sub = [0, 1, 2].map((a) => hi[a] - lo[a] + 1);
    const p = new Uint8Array(sub[0] * sub[1] * sub[2]);
    const g = new Uint8Array(p.length);
    let o = 0;
    for (let z = lo[2]; z <= hi[2]; z++) {
      for (let y = lo[1]; y <= hi[1]; y++) {
        let v = (z * dims[1] + y) * dims[0] + lo[0];
        for (let x = lo[0]; x <= hi[0]; x++, v++, o++) {
          p[o] = pred[v] === label ? 1 : 0;
          g[o] = gt[v] === label ? 1 : 0;
        }
      }
    }
    // Cropping must not invent surface: a mask voxel on the crop edge is on the grid edge too,
    // because the box was grown by one voxel wherever the grid allowed.
    return { label, ...binaryMetrics(p, g, sub, spacing, options) };
  });
}

/** evaluateLabelMaps on two volumes, after checking they share a grid. */
export function evaluateVolumes(pred: Volume, gt: Volume, options: MetricOptions & { labels?: number[] } = {}): LabelMetrics[] {
  checkSameGeometry(gt, pred, ['ground truth', 'prediction']);
  return evaluateLabelMaps(pred.data, gt.data, gt.dims, gt.spacing, options);
}
