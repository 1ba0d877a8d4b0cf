// Float32-faithful CPU builders of SAM 2's positional encodings, mirroring the upstream float32
// op order (sam2/modeling/position_encoding.py, sam2/modeling/sam2_utils.py) with one f32
// rounding per torch op. These are constants of the grid size (or of a few prompt points), built
// once on the host and uploaded; channels-last outputs.
const f = Math.fround;

/** dim_t = temperature ** (2 * (arange(n) // 2) / n), every step in float32. */
function frequenciesF32(n: number, temperature: number): Float32Array {
  const d = new Float32Array(n);
  for (let k = 0; k < n; k++) d[k] = f(Math.pow(temperature, f(f(2 * Math.floor(k / 2)) / n)));
  return d;
}

/**
 * PositionEmbeddingSine._pe (normalize=True) as [H, W, C] float32:
 * y_embed = arange(1, H+1) / (H + eps) * scale   (eps = 1e-6 added in float32: H + 1e-6 rounds to H for H ≥ 32)
 * pos = y_embed / dim_t; [sin(pos[0]), cos(pos[1]), sin(pos[2]), …]; channels cat(pos_y, pos_x).
 */
export function sinePositionEncodingF32(h: number, w: number, c: number, temperature = 10000, scale = 2 * Math.PI): Float32Array {
  if (!Number.isInteger(c) || c < 2 || c % 2 !== 0) throw new Error(`sine position encoding: channel count must be even, got ${c}`);
  const n = c / 2;
  const dimT = frequenciesF32(n, temperature);
  const sc = f(scale);
  const eps = f(1e-6);
  const axis = (len: number): Float32Array => {
    const denom = f(len + eps);
    const t = new Float32Array(len * n);
    for (let i = 0; i < len; i++) {
      const embed = f(f(f(i + 1) / denom) * sc);
      for (let k = 0; k < n; k++) {
        const a = f(embed / dimT[k]);
        t[i * n + k] = k % 2 === 0 ? Math.sin(a) : Math.cos(a);
      }
    }
    return t;
  };
  const ys = axis(h);
  const xs = axis(w);
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * c;
      out.set(ys.subarray(y * n, (y + 1) * n), o);
      out.set(xs.subarray(x * n, (x + 1) * n), o + n);
    }
  }
  return out;
}

/**
 * _pe_encoding of normalised coordinates (u, v) in float32: c = 2·coords − 1; c @ G; 2π·c; [sin | cos].
 * The K=2 matmul is evaluated as the fixtures' CPU sgemm does: round(u·G0k), then one fused
 * multiply-add of v·G1k (matches the fixtures' dense PE to 1 ulp; rounding both products first
 * is 16 ulp off).
 */
function rffInto(out: Float32Array, at: number, u: number, v: number, gauss: ArrayLike<number>, n: number): void {
  const cu = f(f(2 * u) - 1);
  const cv = f(f(2 * v) - 1);
  const twoPi = f(2 * Math.PI);
  for (let k = 0; k < n; k++) {
    const a = f(twoPi * f(f(cu * gauss[k]) + cv * gauss[n + k]));
    out[at + k] = Math.sin(a);
    out[at + n + k] = Math.cos(a);
  }
}

function checkGauss(gauss: ArrayLike<number>): number {
  if (gauss.length < 2 || gauss.length % 2 !== 0) throw new Error(`random-Fourier PE: gaussian matrix must be [2, C/2], got ${gauss.length} values`);
  return gauss.length / 2;
}

/** PositionEmbeddingRandom.forward((H, W)) (get_dense_pe) as [H, W, C] float32; G [2, C/2] row-major. */
export function rffDenseF32(gauss: ArrayLike<number>, h: number, w: number): Float32Array {
  const n = checkGauss(gauss);
  const out = new Float32Array(h * w * 2 * n);
  for (let y = 0; y < h; y++) {
    const v = f(f(y + 0.5) / h); // cumsum(ones) − 0.5, divided by the size
    for (let x = 0; x < w; x++) rffInto(out, (y * w + x) * 2 * n, f(f(x + 0.5) / w), v, gauss, n);
  }
  return out;
}

/**
 * PositionEmbeddingRandom.forward_with_coords: points [N, 2] as (x, y) pixels (the prompt encoder has
 * already added +0.5) of an imageH×imageW image → [N, C] float32 (x / imageW, y / imageH in float32).
 */
export function rffPointsF32(points: ArrayLike<number>, gauss: ArrayLike<number>, imageH: number, imageW: number): Float32Array {
  const n = checkGauss(gauss);
  if (points.length % 2 !== 0) throw new Error(`random-Fourier PE: points must be [N, 2], got ${points.length} values`);
  const count = points.length / 2;
  const out = new Float32Array(count * 2 * n);
  for (let i = 0; i < count; i++) {
    rffInto(out, i * 2 * n, f(f(points[2 * i]) / imageW), f(f(points[2 * i + 1]) / imageH), gauss, n);
  }
  return out;
}

/**
 * get_1d_sine_pe(pos_inds, dim) as [N, dim] float32: [sin(pos/dim_t) | cos(pos/dim_t)] (block layout),
 * dim_t over dim/2 frequencies. `positions` are used as float32 (the object-pointer caller passes
 * float32(t_diff) / float32(t_diff_max), see `temporalPositionF32`).
 */
export function sine1dF32(positions: ArrayLike<number>, dim: number, temperature = 10000): Float32Array {
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) throw new Error(`1-D sine encoding: dim must be even, got ${dim}`);
  const n = dim / 2;
  const dimT = frequenciesF32(n, temperature);
  const out = new Float32Array(positions.length * dim);
  for (let i = 0; i < positions.length; i++) {
    const p = f(positions[i]);
    for (let k = 0; k < n; k++) {
      const a = f(p / dimT[k]);
      out[i * dim + k] = Math.sin(a);
      out[i * dim + n + k] = Math.cos(a);
    }
  }
  return out;
}

/** The object-pointer temporal position `obj_pos / t_diff_max` as torch computes it (int tensor / int → float32). */
export function temporalPositionF32(tDiff: number, tDiffMax: number): number {
  return f(f(tDiff) / f(tDiffMax));
}
