// Float64 references of SAM 2's positional encodings (the formulas of spec §2.3, §2.6 and
// sam2_utils.get_1d_sine_pe), channels-last. The float32-faithful builders used by the model are in
// position-f32.ts; the GPU kernels are compared with these.

export interface SineOptions {
  /** Default 10000. */
  temperature?: number;
  /** Default 2π. */
  scale?: number;
}

/** dim_t[k] = temperature ^ (2·floor(k/2) / n) for k < n. */
function frequencies(n: number, temperature: number): Float64Array {
  const d = new Float64Array(n);
  for (let k = 0; k < n; k++) d[k] = Math.pow(temperature, (2 * Math.floor(k / 2)) / n);
  return d;
}

/**
 * PositionEmbeddingSine(num_pos_feats = C, normalize=True) of an H×W grid as [H, W, C]:
 * ŷ = (i+1)/(H+1e-6)·scale, x̂ = (j+1)/(W+1e-6)·scale; per axis interleaved sin/cos (sin for even k,
 * cos for odd k, frequency shared by each pair); channels [y-part (C/2) | x-part (C/2)].
 */
export function sinePositionEncodingRef(h: number, w: number, c: number, opts: SineOptions = {}): Float64Array {
  if (!Number.isInteger(c) || c < 2 || c % 2 !== 0) throw new Error(`sine position encoding: channel count must be even, got ${c}`);
  const scale = opts.scale ?? 2 * Math.PI;
  const n = c / 2;
  const dimT = frequencies(n, opts.temperature ?? 10000);
  const axis = (pos: number, len: number, k: number): number => {
    const a = ((pos + 1) / (len + 1e-6)) * scale / dimT[k];
    return k % 2 === 0 ? Math.sin(a) : Math.cos(a);
  };
  const out = new Float64Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * c;
      for (let k = 0; k < n; k++) {
        out[o + k] = axis(y, h, k);
        out[o + n + k] = axis(x, w, k);
      }
    }
  }
  return out;
}

/** Random-Fourier features of normalised (u, v) ∈ [0,1]²: [sin(2π·(2u−1, 2v−1)·G) | cos(…)], G [2, C/2] row-major. */
function rffInto(out: Float64Array, at: number, u: number, v: number, gauss: ArrayLike<number>, n: number): void {
  for (let k = 0; k < n; k++) {
    const a = 2 * Math.PI * ((2 * u - 1) * gauss[k] + (2 * v - 1) * gauss[n + k]);
    out[at + k] = Math.sin(a);
    out[at + n + k] = Math.cos(a);
  }
}

/** PositionEmbeddingRandom.forward((H, W)) (get_dense_pe) as [H, W, C], u = (x+0.5)/W, v = (y+0.5)/H. */
export function rffDenseRef(gauss: ArrayLike<number>, h: number, w: number): Float64Array {
  const n = gauss.length / 2;
  const c = 2 * n;
  const out = new Float64Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) rffInto(out, (y * w + x) * c, (x + 0.5) / w, (y + 0.5) / h, gauss, n);
  }
  return out;
}

/**
 * PositionEmbeddingRandom.forward_with_coords: points [N, 2] as (x, y) in pixels of an
 * imageH×imageW image → [N, C] (u = x / imageW, v = y / imageH). The prompt encoder adds the +0.5
 * pixel-centre offset before calling it.
 */
export function rffPointsRef(points: ArrayLike<number>, gauss: ArrayLike<number>, imageH: number, imageW: number): Float64Array {
  const n = gauss.length / 2;
  const count = points.length / 2;
  const out = new Float64Array(count * 2 * n);
  for (let i = 0; i < count; i++) rffInto(out, i * 2 * n, points[2 * i] / imageW, points[2 * i + 1] / imageH, gauss, n);
  return out;
}

/** get_1d_sine_pe(pos, dim): [N, dim] = [sin(pos/dim_t) | cos(pos/dim_t)], dim_t over dim/2 (block layout). */
export function sine1dRef(positions: ArrayLike<number>, dim: number, temperature = 10000): Float64Array {
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) throw new Error(`1-D sine encoding: dim must be even, got ${dim}`);
  const n = dim / 2;
  const dimT = frequencies(n, temperature);
  const out = new Float64Array(positions.length * dim);
  for (let i = 0; i < positions.length; i++) {
    for (let k = 0; k < n; k++) {
      const a = positions[i] / dimT[k];
      out[i * dim + k] = Math.sin(a);
      out[i * dim + n + k] = Math.cos(a);
    }
  }
  return out;
}
