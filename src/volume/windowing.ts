// Intensity windowing of a volume to uint8, following the MedSAM / MedSAM2 pre-processing recipe
// (bowang-lab/MedSAM pre_CT_MR.py, reused by MedSAM2's inference scripts):
//   CT: clip to [level - width/2, level + width/2]
//   MR: clip to the 0.5 / 99.5 percentiles of the non-zero voxels of the whole volume
//   then min-max normalise the *clipped volume* to [0, 255] and truncate to uint8 (np.uint8 on
//   float64: (v - min) / (max - min) * 255, fraction dropped); MR voxels that were 0 stay 0.
// One mapping is computed per volume and applied to every slice, so slices stay comparable.

import { extractSlice, type Axis } from './slicing.js';
import type { VoxelData } from './volume.js';

export interface CtWindow {
  width: number;
  level: number;
}

/**
 * CT presets in Hounsfield units (Radiopaedia, "Windowing (CT)"). Bone uses W1800/L400, the
 * Radiopaedia bone window (W2000/L300 is another common choice; pass it explicitly if wanted).
 */
export const CT_PRESETS = {
  abdomen: { width: 400, level: 40 }, // soft tissue; MedSAM's default
  lung: { width: 1500, level: -600 },
  brain: { width: 80, level: 40 },
  mediastinum: { width: 350, level: 50 },
  bone: { width: 1800, level: 400 },
} as const satisfies Record<string, CtWindow>;

/** Name of a CT window preset. */
export type CtPresetName = keyof typeof CT_PRESETS;

/** How to map intensities to uint8: a CT window (preset or width/level), percentiles, or min-max. */
export type WindowSpec =
  | { kind: 'ct'; preset: CtPresetName }
  | { kind: 'ct'; width: number; level: number }
  /** Percentile clipping (MR). Defaults: 0.5 / 99.5 over non-zero voxels, zeros kept at 0 (MedSAM). */
  | { kind: 'percentile'; low?: number; high?: number; nonZeroOnly?: boolean }
  /** Plain min-max over the whole volume, no clipping. */
  | { kind: 'minmax' };

/** The per-volume intensity → uint8 map. */
export interface IntensityMapping {
  /** Clip range. */
  lower: number;
  /** Upper end of the clip range. */
  upper: number;
  /** Min and max of the clipped volume: these map to 0 and 255. */
  min: number;
  /** Maps to 255. */
  max: number;
  /** Voxels equal to 0 in the input map to 0 (MedSAM's MR rule). */
  keepZero: boolean;
}

/**
 * Parses a window name for the CLI: a CT preset ("abdomen", "lung", "brain", "mediastinum", "bone"),
 * "mr" / "percentile" (0.5-99.5 % of non-zero voxels), "minmax", or "W/L" such as "400/40".
 */
export function parseWindowSpec(text: string): WindowSpec {
  const t = text.trim().toLowerCase();
  if (t in CT_PRESETS) return { kind: 'ct', preset: t as CtPresetName };
  if (t === 'mr' || t === 'percentile') return { kind: 'percentile' };
  if (t === 'minmax') return { kind: 'minmax' };
  const m = /^w?(-?\d+(?:\.\d+)?)\s*[/,]\s*l?(-?\d+(?:\.\d+)?)$/.exec(t);
  if (m) {
    const width = Number(m[1]);
    if (!(width > 0)) throw new Error(`window width must be > 0, got ${width}`);
    return { kind: 'ct', width, level: Number(m[2]) };
  }
  throw new Error(
    `unknown window ${JSON.stringify(text)}; use one of ${Object.keys(CT_PRESETS).join(', ')}, mr, minmax, or width/level such as 400/40`,
  );
}

export interface Stats {
  count: number;
  min: number;
  max: number;
}

/** Count/min/max of the finite values (optionally only non-zero ones). NaN is skipped. */
export function valueStats(data: ArrayLike<number>, nonZeroOnly = false): Stats {
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let n = 0; n < data.length; n++) {
    const v = data[n];
    if (v !== v || (nonZeroOnly && v === 0)) continue;
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { count, min, max };
}

const INTEGER_HISTOGRAM_LIMIT = 1 << 20;
const FLOAT_BINS = 4096;

function isIntegerData(data: ArrayLike<number>): boolean {
  return !(data instanceof Float32Array || data instanceof Float64Array || Array.isArray(data));
}

/** numpy's linear interpolation between two order statistics (numpy/lib/_function_base_impl.py _lerp). */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/**
 * Exact percentiles (numpy.percentile's default 'linear' method) in two passes: a histogram finds
 * which bin holds each needed order statistic, then only that bin's values are sorted. Integer data
 * with a small range uses one bin per value and needs no sort. NaN is ignored (like nanpercentile).
 */
export function percentiles(data: ArrayLike<number>, ps: readonly number[], nonZeroOnly = false): number[] {
  for (const p of ps) if (!(p >= 0 && p <= 100)) throw new Error(`percentile must be in [0, 100], got ${p}`);
  const { count, min, max } = valueStats(data, nonZeroOnly);
  if (count === 0) return ps.map(() => NaN);
  if (min === max) return ps.map(() => min);
  const skip = (v: number) => v !== v || (nonZeroOnly && v === 0);

  // Order statistics needed: floor and ceil of p/100 * (count - 1) for each p.
  const ranks = new Set<number>();
  for (const p of ps) {
    const pos = (p / 100) * (count - 1);
    ranks.add(Math.floor(pos));
    ranks.add(Math.ceil(pos));
  }
  const sortedRanks = [...ranks].sort((a, b) => a - b);
  const valueAtRank = new Map<number, number>();

  const integerRange = max - min + 1;
  if (isIntegerData(data) && integerRange <= INTEGER_HISTOGRAM_LIMIT) {
    const hist = new Float64Array(integerRange);
    for (let n = 0; n < data.length; n++) {
      const v = data[n];
      if (!skip(v)) hist[v - min]++;
    }
    let cum = 0;
    let r = 0;
    for (let b = 0; b < integerRange && r < sortedRanks.length; b++) {
      cum += hist[b];
      while (r < sortedRanks.length && sortedRanks[r] < cum) valueAtRank.set(sortedRanks[r++], min + b);
    }
  } else {
    const scale = FLOAT_BINS / (max - min);
    const binOf = (v: number) => Math.min(FLOAT_BINS - 1, Math.floor((v - min) * scale));
    const hist = new Float64Array(FLOAT_BINS);
    for (let n = 0; n < data.length; n++) {
      const v = data[n];
      if (!skip(v)) hist[binOf(v)]++;
    }
    // For each needed rank: its bin and its rank inside the bin.
    const binStart = new Float64Array(FLOAT_BINS);
    for (let b = 1; b < FLOAT_BINS; b++) binStart[b] = binStart[b - 1] + hist[b - 1];
    const needBins = new Map<number, number[]>();
    for (const rank of sortedRanks) {
      let lo = 0;
      let hi = FLOAT_BINS - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (binStart[mid] <= rank) lo = mid;
        else hi = mid - 1;
      }
      needBins.set(lo, [...(needBins.get(lo) ?? []), rank]);
    }
    const buckets = new Map<number, Float64Array>();
    const fill = new Map<number, number>();
    for (const b of needBins.keys()) {
      buckets.set(b, new Float64Array(hist[b]));
      fill.set(b, 0);
    }
    for (let n = 0; n < data.length; n++) {
      const v = data[n];
      if (skip(v)) continue;
      const b = binOf(v);
      const bucket = buckets.get(b);
      if (bucket) {
        const f = fill.get(b)!;
        bucket[f] = v;
        fill.set(b, f + 1);
      }
    }
    for (const [b, rs] of needBins) {
      const bucket = buckets.get(b)!.sort();
      for (const rank of rs) valueAtRank.set(rank, bucket[rank - binStart[b]]);
    }
  }

  return ps.map((p) => {
    const pos = (p / 100) * (count - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return lerp(valueAtRank.get(lo)!, valueAtRank.get(hi)!, pos - lo);
  });
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Computes the volume-wide mapping for a window spec. */
export function computeMapping(data: ArrayLike<number>, spec: WindowSpec): IntensityMapping {
  const all = valueStats(data);
  if (all.count === 0) throw new Error('cannot window a volume with no finite values');
  let lower: number;
  let upper: number;
  let keepZero = false;
  if (spec.kind === 'ct') {
    const w = 'preset' in spec ? CT_PRESETS[spec.preset] : spec;
    if (!w) throw new Error(`unknown CT preset ${JSON.stringify((spec as { preset: string }).preset)}`);
    if (!(w.width > 0)) throw new Error(`window width must be > 0, got ${w.width}`);
    lower = w.level - w.width / 2;
    upper = w.level + w.width / 2;
  } else if (spec.kind === 'percentile') {
    const low = spec.low ?? 0.5;
    const high = spec.high ?? 99.5;
    if (!(low < high)) throw new Error(`percentile window needs low < high, got ${low} and ${high}`);
    const nonZeroOnly = spec.nonZeroOnly ?? true;
    [lower, upper] = percentiles(data, [low, high], nonZeroOnly);
    if (Number.isNaN(lower)) throw new Error('percentile window: the volume has no non-zero voxels');
    keepZero = nonZeroOnly;
  } else {
    lower = all.min;
    upper = all.max;
  }
  // np.min(np.clip(x, lo, hi)) == clip(np.min(x), lo, hi), same for max.
  return { lower, upper, min: clip(all.min, lower, upper), max: clip(all.max, lower, upper), keepZero };
}

/** uint8 value of one intensity under a mapping (0 when the clipped volume is constant). */
export function mapToUint8(v: number, m: IntensityMapping): number {
  if (m.keepZero && v === 0) return 0;
  if (v !== v) return 0;
  const range = m.max - m.min;
  if (!(range > 0)) return 0;
  const u = ((clip(v, m.lower, m.upper) - m.min) / range) * 255;
  return u <= 0 ? 0 : u >= 255 ? 255 : Math.trunc(u);
}

/** Maps a whole array (volume or slice) to uint8. */
export function applyMapping(data: ArrayLike<number>, m: IntensityMapping, out?: Uint8Array): Uint8Array {
  const result = out ?? new Uint8Array(data.length);
  for (let n = 0; n < data.length; n++) result[n] = mapToUint8(data[n], m);
  return result;
}

/** One windowed uint8 slice along an axis (see slicing.ts for the layout). */
export function windowSlice(data: VoxelData, dims: readonly number[], axis: Axis, index: number, m: IntensityMapping): Uint8Array {
  return applyMapping(extractSlice(data, dims, axis, index), m);
}
