// Positional-encoding kernels (upstream sam2/modeling/position_encoding.py), channels-last [H, W, C]:
//  - PositionEmbeddingSine (normalize=True): per axis interleaved [sin, cos, sin, cos, …] with a
//    shared frequency per pair; channels [y-part | x-part];
//  - PositionEmbeddingRandom dense grid (get_dense_pe): [sin(2π·(2u−1, 2v−1)·G) | cos(…)].
// WGSL's sin/cos are only specified to 2^-11 absolute error on [−π, π] (and drivers reduce large
// arguments coarsely), so both kernels use SIN_COS below: Cody–Waite reduction by π/2 and the
// Cephes single-precision polynomials, |error| < 1e-7 for |x| ≤ 1e4 (RFF arguments reach
// 2π·(|G0k| + |G1k|), tens of radians for a randn G).
import type { DType } from '../../runtime/tensor.js';
import { header, LINEAR_ID } from '../wgsl.js';

/** `fn sin_cos(x: f32) -> vec2<f32>` = (sin x, cos x), accurate to ~1e-7 absolute for |x| ≤ 1e4. */
export const SIN_COS = /* wgsl */ `
fn sin_cos(x: f32) -> vec2<f32> {
  // x = q·π/2 + r, |r| ≤ π/4; π/2 = P1 + P2 + P3 with P1 (8 bits) and P2 (11 bits) short enough
  // that q·P1 and q·P2 are exact for |q| < 2^13.
  let q = round(x * 0.636619772367581343);
  let r = ((x - q * 1.5703125) - q * 4.837512969970703125e-4) - q * 7.54978995489188216e-8;
  let z = r * r;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  switch (u32(i32(q) & 3)) {
    case 0u: { return vec2<f32>(s, c); }
    case 1u: { return vec2<f32>(c, -s); }
    case 2u: { return vec2<f32>(-s, -c); }
    default: { return vec2<f32>(-c, s); }
  }
}
`;

/** PositionEmbeddingSine, normalize=True: out[y, x, ch] for an H×W grid with C channels. */
export function sinePositionSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params {
  h: u32, w: u32, c: u32, n: u32,
  // (H + 1e-6) and (W + 1e-6) rounded to f32 as upstream computes them, the scale (2π) and log2(temperature)
  denom_y: f32, denom_x: f32, scale: f32, log2_temperature: f32,
}
@group(0) @binding(0) var<storage, read_write> out: array<T>;
@group(0) @binding(1) var<uniform> p: Params;
override WG: u32 = 256;
${SIN_COS}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  let ch = i % p.c;
  let pix = i / p.c;
  let n_half = p.c / 2u;
  let is_y = ch < n_half;
  let k = select(ch - n_half, ch, is_y);
  let pos = select(pix % p.w, pix / p.w, is_y);
  // cumsum of ones = pos + 1, normalised by the last value + eps, times the scale
  let embed = (f32(pos) + 1.0) / select(p.denom_x, p.denom_y, is_y) * p.scale;
  // dim_t = temperature ^ (2·floor(k/2) / n_half)
  let dim_t = exp2(f32(2u * (k / 2u)) / f32(n_half) * p.log2_temperature);
  let sc = sin_cos(embed / dim_t);
  out[i] = T(select(sc.y, sc.x, (k & 1u) == 0u));
}
`;
}

/** PositionEmbeddingRandom.forward((H, W)): out[y, x, ch] from G [2, C/2] with u = (x+0.5)/W, v = (y+0.5)/H. */
export function rffDenseSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { h: u32, w: u32, c: u32, n: u32 }
@group(0) @binding(0) var<storage, read> gauss: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;
${SIN_COS}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  let ch = i % p.c;
  let pix = i / p.c;
  let n_half = p.c / 2u;
  let k = select(ch, ch - n_half, ch >= n_half);
  let u = (f32(pix % p.w) + 0.5) / f32(p.w);
  let v = (f32(pix / p.w) + 0.5) / f32(p.h);
  // coords = 2·coords − 1; coords @ G; 2π·coords. The fixtures' sgemm rounds the u-term and fuses
  // the v-term; WGSL's fma() may or may not fuse (lavapipe does not): within 1e-6 either way.
  let a = fma(2.0 * v - 1.0, f32(gauss[n_half + k]), (2.0 * u - 1.0) * f32(gauss[k])) * 6.28318530717958648;
  let sc = sin_cos(a);
  out[i] = T(select(sc.x, sc.y, ch >= n_half));
}
`;
}
