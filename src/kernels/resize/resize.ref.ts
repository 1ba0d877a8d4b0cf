// CPU references for the resize kernels, on channels-last [B, H, W, C] data.
// Indices and weights follow PyTorch's CPU kernels (aten/src/ATen/native/UpSample.h:
// area_pixel_compute_scale / area_pixel_compute_source_index / guard_index_and_lambda /
// get_cubic_upsample_coefficients; cpu/UpSampleKernel.cpp: HelperInterpLinear::aa_filter and
// _compute_indices_min_size_weights_aa), because they decide which pixels are read and with what
// weight; the weighted sums are then accumulated in float64.
// Precision of those steps: the scale is float32(in)/out everywhere (trap T31). Bilinear
// coordinates and lambdas are exact (double), as in the fixtures' torch 1.13 channels-last kernel
// that SAM 2's single-channel masks go through (torch ≥ 2.1 computes them in float32 instead);
// bicubic and antialiased weights are float32, step by step.
import { antialiasAxis, resizeScale } from './resize-params.js';

const f = Math.fround;

/** One output index's taps along one axis: input indices and their weights. */
export interface AxisTaps {
  index: number[];
  weight: number[];
}

/** area_pixel_compute_source_index(scale, dst, align_corners=False) in float32 (no clamp). */
export function sourceCoord(scale: number, dst: number): number {
  return f(f(scale * f(dst + 0.5)) - 0.5);
}

/**
 * Bilinear (align_corners=False, no antialias) taps for every output index: float32 scale, then
 * src = scale·(dst + 0.5) − 0.5 and the lambdas in double (exact), clamped at 0.
 */
export function linearTaps(inSize: number, outSize: number): AxisTaps[] {
  const scale = resizeScale(inSize, outSize);
  const taps: AxisTaps[] = [];
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(scale * (d + 0.5) - 0.5, 0); // exact: a 24-bit by ≤ 17-bit product
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const l1 = Math.min(Math.max(src - i0, 0), 1);
    taps.push({ index: [i0, i1], weight: [1 - l1, l1] });
  }
  return taps;
}

const CUBIC_A = -0.75;
/** ((A + 2)·x − (A + 3))·x·x + 1 in float32, for |x| ≤ 1. */
const cubic1 = (x: number): number => f(f(f(f(f((CUBIC_A + 2) * x) - (CUBIC_A + 3)) * x) * x) + 1);
/** ((A·x − 5A)·x + 8A)·x − 4A in float32, for 1 < |x| < 2. */
const cubic2 = (x: number): number => f(f(f(f(f(f(CUBIC_A * x) - 5 * CUBIC_A) * x) + 8 * CUBIC_A) * x) - 4 * CUBIC_A);

/** Bicubic (align_corners=False, A = −0.75) taps: source coordinate not clamped, indices clamped to the border. */
export function cubicTaps(inSize: number, outSize: number): AxisTaps[] {
  const scale = resizeScale(inSize, outSize);
  const taps: AxisTaps[] = [];
  for (let d = 0; d < outSize; d++) {
    const src = sourceCoord(scale, d);
    const i = Math.min(Math.floor(src), inSize - 1);
    const t = Math.min(Math.max(f(src - i), 0), 1);
    const u = f(1 - t);
    const weight = [cubic2(f(t + 1)), cubic1(t), cubic1(u), cubic2(f(u + 1))];
    const index = [0, 1, 2, 3].map((j) => Math.min(Math.max(i - 1 + j, 0), inSize - 1));
    taps.push({ index, weight });
  }
  return taps;
}

/** Antialiased bilinear taps (`_upsample_bilinear2d_aa`): triangle filter, float32 weights normalised by their float32 sum. */
export function antialiasTaps(inSize: number, outSize: number): AxisTaps[] {
  const { scale, support, invscale, maxTaps } = antialiasAxis(inSize, outSize);
  const filter = (x: number): number => {
    const a = Math.abs(x);
    return a < 1 ? f(1 - a) : 0;
  };
  const taps: AxisTaps[] = [];
  for (let d = 0; d < outSize; d++) {
    const center = f(scale * (d + 0.5));
    // int64(v + 0.5) with the + 0.5 in double: truncation toward zero, then clamped at 0.
    const xmin = Math.max(Math.trunc(f(center - support) + 0.5), 0);
    let xsize = Math.min(Math.trunc(f(center + support) + 0.5), inSize) - xmin;
    xsize = Math.min(Math.max(xsize, 0), maxTaps);
    const index: number[] = [];
    const weight: number[] = [];
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      // (j + xmin − center + 0.5)·invscale: f32 difference, exact double add and multiply, one f32 rounding.
      const w = filter(f((f(j + xmin - center) + 0.5) * invscale));
      index.push(xmin + j);
      weight.push(w);
      total = f(total + w);
    }
    taps.push({ index, weight: total !== 0 ? weight.map((w) => f(w / total)) : weight });
  }
  return taps;
}

/** Separable resize of NHWC data with per-axis taps; sums in float64, y taps outermost. */
function separable(
  x: ArrayLike<number>,
  batch: number,
  inH: number,
  inW: number,
  c: number,
  ty: AxisTaps[],
  tx: AxisTaps[],
): Float64Array {
  const outH = ty.length;
  const outW = tx.length;
  const out = new Float64Array(batch * outH * outW * c);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const yt = ty[oy];
      for (let ox = 0; ox < outW; ox++) {
        const xt = tx[ox];
        const obase = ((b * outH + oy) * outW + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let jy = 0; jy < yt.index.length; jy++) {
            let row = 0;
            const rbase = (b * inH + yt.index[jy]) * inW;
            for (let jx = 0; jx < xt.index.length; jx++) row += x[(rbase + xt.index[jx]) * c + ch] * xt.weight[jx];
            acc += row * yt.weight[jy];
          }
          out[obase + ch] = acc;
        }
      }
    }
  }
  return out;
}

export type ResizeRefMode = 'bilinear' | 'bicubic' | 'bilinear-aa';

const TAPS: Record<ResizeRefMode, (inSize: number, outSize: number) => AxisTaps[]> = {
  bilinear: linearTaps,
  bicubic: cubicTaps,
  'bilinear-aa': antialiasTaps,
};

/** F.interpolate(mode, size=(outH, outW), align_corners=False[, antialias]) of NHWC [B, inH, inW, C]. */
export function resizeRef(
  mode: ResizeRefMode,
  x: ArrayLike<number>,
  batch: number,
  inH: number,
  inW: number,
  c: number,
  outH: number,
  outW: number,
): Float64Array {
  if (x.length !== batch * inH * inW * c) throw new Error(`resizeRef: ${x.length} values are not [${batch}, ${inH}, ${inW}, ${c}]`);
  return separable(x, batch, inH, inW, c, TAPS[mode](inH, outH), TAPS[mode](inW, outW));
}

/** Nearest x2 (`scale_factor=2`: src = floor(dst / 2)) of NHWC data, plus `lateral` when given. */
export function nearestUp2Ref(x: ArrayLike<number>, batch: number, inH: number, inW: number, c: number, lateral?: ArrayLike<number>): Float64Array {
  const outH = 2 * inH;
  const outW = 2 * inW;
  const out = new Float64Array(batch * outH * outW * c);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const o = ((b * outH + oy) * outW + ox) * c;
        const s = ((b * inH + (oy >> 1)) * inW + (ox >> 1)) * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] = (lateral ? lateral[o + ch] : 0) + x[s + ch];
      }
    }
  }
  return out;
}
