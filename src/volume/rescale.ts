// Linear intensity scaling (NIfTI scl_slope/scl_inter, DICOM RescaleSlope/RescaleIntercept) into the
// smallest typed array that holds the result exactly: CT's "raw × 1 − 1024" stays Int16 instead of
// doubling memory as Float32; anything non-integer becomes Float32, or Float64 when the scaled
// values leave float32's range (a slope of 1e38 must not turn the volume into Inf). The
// arithmetic is float64 throughout.

import type { VoxelData } from './volume.js';

export interface ScaledPart {
  raw: VoxelData;
  slope: number;
  intercept: number;
}

export type ScaledType = 'keep' | 'int16' | 'int32' | 'float32' | 'float64';

/** Largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

function isIntegerArray(a: VoxelData): boolean {
  return !(a instanceof Float32Array || a instanceof Float64Array);
}

/** Min and max of the finite values (NaN and ±Inf stay what they are whatever the scaling). */
function minMax(a: VoxelData): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Output type for parts that share one volume (DICOM slices may each have their own slope). */
export function chooseScaledType(parts: ScaledPart[]): ScaledType {
  if (parts.every((p) => p.slope === 1 && p.intercept === 0)) return 'keep';
  const integral = parts.every((p) => isIntegerArray(p.raw) && Number.isInteger(p.slope) && Number.isInteger(p.intercept));
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of parts) {
    const [a, b] = minMax(p.raw);
    if (a > b) continue; // empty part
    const x = a * p.slope + p.intercept;
    const y = b * p.slope + p.intercept;
    lo = Math.min(lo, x, y);
    hi = Math.max(hi, x, y);
  }
  if (!(Math.max(Math.abs(lo), Math.abs(hi)) <= FLOAT32_MAX) && lo <= hi) return 'float64';
  if (!integral) return 'float32';
  if (lo >= -32768 && hi <= 32767) return 'int16';
  if (lo >= -2147483648 && hi <= 2147483647) return 'int32';
  return 'float32';
}

export function allocateScaled(type: Exclude<ScaledType, 'keep'>, length: number): Int16Array | Int32Array | Float32Array | Float64Array {
  if (type === 'int16') return new Int16Array(length);
  if (type === 'int32') return new Int32Array(length);
  if (type === 'float64') return new Float64Array(length);
  return new Float32Array(length);
}

/** out[offset + n] = raw[n] * slope + intercept */
export function scaleInto(out: VoxelData, offset: number, raw: VoxelData, slope: number, intercept: number): void {
  for (let n = 0; n < raw.length; n++) out[offset + n] = raw[n] * slope + intercept;
}

/** Applies one slope/intercept to a whole array (identity scaling returns `raw` itself). */
export function applyScaling(raw: VoxelData, slope: number, intercept: number): VoxelData {
  const type = chooseScaledType([{ raw, slope, intercept }]);
  if (type === 'keep') return raw;
  const out = allocateScaled(type, raw.length);
  scaleInto(out, 0, raw, slope, intercept);
  return out;
}
