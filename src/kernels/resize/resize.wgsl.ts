// Resize kernels on channels-last maps [B, H, W, C], PyTorch F.interpolate semantics
// (aten/src/ATen/native/UpSample.h and cpu/UpSampleKernel.cpp), one invocation per output element:
//  - nearest x2 (`scale_factor=2`): src = dst >> 1, with the FPN's lateral add fused;
//  - bilinear, align_corners=False, no antialias, any output size;
//  - bicubic, align_corners=False, A = -0.75, taps clamped to the border (Hiera pos_embed);
//  - bilinear with antialias=True (`_upsample_bilinear2d_aa`): triangle filter whose support
//    scales with the downscale factor, weights normalised per output index.
// The scale is always float32(in) / out (trap T31). Source coordinates: the fixtures' torch 1.13
// resizes SAM 2's single-channel mask maps through its channels-last bilinear kernel, which
// evaluates scale·(dst + 0.5) − 0.5 and the lambdas in double; the bilinear kernel here reproduces
// that exactly (an error-free f32 product), which matters for non-integer ratios such as 64 -> 320
// (f32 coordinates differ from the fixtures by up to ulp(src)·|Δx|, 8e-5 on micro-video's masks).
// Bicubic and antialiased weights are computed in f32 step by step as PyTorch's float kernels do.
import type { DType } from '../../runtime/tensor.js';
import { header, LINEAR_ID } from '../wgsl.js';

export type ResizeMode = 'bilinear' | 'bicubic' | 'bilinear-aa';

const NEAREST_BINDINGS: Record<'plain' | 'add', string> = {
  plain: /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
fn lateral_at(i: u32, up: f32) -> f32 { return up; }`,
  add: /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read> lateral: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;
@group(0) @binding(3) var<uniform> p: Params;
// FpnNeck: prev_features = lateral_features + top_down_features
fn lateral_at(i: u32, up: f32) -> f32 { return f32(lateral[i]) + up; }`,
};

/** out[b, y, x, c] = (lateral[b, y, x, c] +) x[b, y >> 1, x >> 1, c]. */
export function nearestUp2Source(dtype: DType, withLateral: boolean): string {
  return /* wgsl */ `${header(dtype)}
struct Params { out_h: u32, out_w: u32, c: u32, n: u32 }
${NEAREST_BINDINGS[withLateral ? 'add' : 'plain']}
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  let ch = i % p.c;
  let pix = i / p.c;
  let ox = pix % p.out_w;
  let t = pix / p.out_w;       // b * out_h + oy
  let oy = t % p.out_h;
  let b = t / p.out_h;
  let in_h = p.out_h >> 1u;
  let in_w = p.out_w >> 1u;
  let src = ((b * in_h + (oy >> 1u)) * in_w + (ox >> 1u)) * p.c + ch;
  out[i] = T(lateral_at(i, f32(x[src])));
}
`;
}

const RESIZE_PARAMS = /* wgsl */ `
struct Params {
  in_h: u32, in_w: u32, out_h: u32, out_w: u32,
  c: u32, n: u32, zero: u32, _p0: u32,
  scale_y: f32, scale_x: f32, support_y: f32, support_x: f32,
  invscale_y: f32, invscale_x: f32, taps_y: u32, taps_x: u32,
}
@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

// Rounds a product to f32 before the add that follows: OR-ing its bits with a runtime zero
// (p.zero) keeps the compiler from contracting product and add into one FMA, which would round
// differently from PyTorch at the rare coordinates where the two disagree.
fn rounded(v: f32) -> f32 { return bitcast<f32>(bitcast<u32>(v) | p.zero); }

// area_pixel_compute_source_index(scale, dst, align_corners=False): scale·(dst + 0.5) − 0.5, in f32.
fn source_coord(scale: f32, d: u32) -> f32 { return rounded(scale * (f32(d) + 0.5)) - 0.5; }

// The same coordinate without rounding, as floor + fraction: scale·t = p + e exactly (Dekker's
// product with 12-bit halves split off by masking; every partial product is exact, so contraction
// into FMAs cannot change it), then (p − 0.5) + e is split at its integer part.
struct Coord { i: i32, frac: f32 }
fn hi12(v: f32) -> f32 { return bitcast<f32>(bitcast<u32>(v) & 0xfffff000u); }
fn source_coord_exact(scale: f32, d: u32) -> Coord {
  let t = f32(d) + 0.5;
  let p = rounded(scale * t);
  let sh = hi12(scale);
  let sl = scale - sh;
  let th = hi12(t);
  let tl = t - th;
  let e = sl * tl - (((p - sh * th) - sl * th) - sh * tl);
  let a = p - 0.5; // exact for p ≥ 0.25
  var c: Coord;
  var fl = floor(a);
  var fr = (a - fl) + e;
  if (fr < 0.0) {
    fl -= 1.0;
    fr = (a - fl) + e;
  } else if (fr >= 1.0) {
    fl += 1.0;
    fr = (a - fl) + e;
  }
  c.i = i32(fl);
  c.frac = fr;
  return c;
}

// Output element index -> (batch, row, column, channel); at() reads the input (NHWC).
struct Out { b: u32, oy: u32, ox: u32, ch: u32 }
fn out_coords(i: u32) -> Out {
  var o: Out;
  o.ch = i % p.c;
  let pix = i / p.c;
  o.ox = pix % p.out_w;
  let t = pix / p.out_w;
  o.oy = t % p.out_h;
  o.b = t / p.out_h;
  return o;
}
fn at(b: u32, y: u32, xx: u32, ch: u32) -> f32 { return f32(x[((b * p.in_h + y) * p.in_w + xx) * p.c + ch]); }
`;

/** Bilinear, align_corners=False, no antialias (low-res mask logits to S×S or to the video size). */
export function bilinearSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
${RESIZE_PARAMS}
struct Taps2 { i0: u32, i1: u32, l0: f32, l1: f32 }
// compute_source_index_and_lambda: src clamped at 0, index = min(floor(src), in − 1), the second tap
// repeats the last row/column at the border; coordinate and lambda exact (see the header).
fn linear_taps(scale: f32, d: u32, in_size: u32) -> Taps2 {
  let c = source_coord_exact(scale, d);
  var t: Taps2;
  if (c.i < 0) { // src < 0 -> 0
    t.i0 = 0u;
    t.l1 = 0.0;
  } else if (u32(c.i) > in_size - 1u) {
    t.i0 = in_size - 1u;
    t.l1 = 1.0;
  } else {
    t.i0 = u32(c.i);
    t.l1 = c.frac;
  }
  t.i1 = select(t.i0, t.i0 + 1u, t.i0 < in_size - 1u);
  t.l0 = 1.0 - t.l1;
  return t;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  let o = out_coords(i);
  let ty = linear_taps(p.scale_y, o.oy, p.in_h);
  let tx = linear_taps(p.scale_x, o.ox, p.in_w);
  let r0 = at(o.b, ty.i0, tx.i0, o.ch) * tx.l0 + at(o.b, ty.i0, tx.i1, o.ch) * tx.l1;
  let r1 = at(o.b, ty.i1, tx.i0, o.ch) * tx.l0 + at(o.b, ty.i1, tx.i1, o.ch) * tx.l1;
  out[i] = T(r0 * ty.l0 + r1 * ty.l1);
}
`;
}

/** Bicubic, align_corners=False, Keys A = −0.75, unclamped source coordinate, border-clamped taps. */
export function bicubicSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
${RESIZE_PARAMS}
const A: f32 = -0.75;
fn cubic1(v: f32) -> f32 { return ((A + 2.0) * v - (A + 3.0)) * v * v + 1.0; }        // |v| ≤ 1
fn cubic2(v: f32) -> f32 { return ((A * v - 5.0 * A) * v + 8.0 * A) * v - 4.0 * A; }  // 1 < |v| < 2
struct Taps4 { first: i32, w: vec4<f32> }
// guard_index_and_lambda + get_cubic_upsample_coefficients (weights of taps first .. first+3).
fn cubic_taps(scale: f32, d: u32, in_size: u32) -> Taps4 {
  let src = source_coord(scale, d);
  let i = min(i32(floor(src)), i32(in_size) - 1);
  let t = clamp(src - f32(i), 0.0, 1.0);
  let u = 1.0 - t;
  var r: Taps4;
  r.first = i - 1;
  r.w = vec4<f32>(cubic2(t + 1.0), cubic1(t), cubic1(u), cubic2(u + 1.0));
  return r;
}
fn tap(first: i32, j: u32, in_size: u32) -> u32 { return u32(clamp(first + i32(j), 0, i32(in_size) - 1)); }

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  let o = out_coords(i);
  let ty = cubic_taps(p.scale_y, o.oy, p.in_h);
  let tx = cubic_taps(p.scale_x, o.ox, p.in_w);
  var acc = 0.0;
  for (var jy = 0u; jy < 4u; jy++) {
    let y = tap(ty.first, jy, p.in_h);
    var row = 0.0;
    for (var jx = 0u; jx < 4u; jx++) { row += at(o.b, y, tap(tx.first, jx, p.in_w), o.ch) * tx.w[jx]; }
    acc += row * ty.w[jy];
  }
  out[i] = T(acc);
}
`;
}

/** Antialiased bilinear (triangle filter, support = max(scale, 1)), weights normalised per output index. */
export function bilinearAntialiasSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
${RESIZE_PARAMS}
fn aa_filter(v: f32) -> f32 { let a = abs(v); return select(0.0, 1.0 - a, a < 1.0); }
// PyTorch computes int64(v + 0.5) with the +0.5 in double, i.e. round-half-up of the f32 value v;
// done here without the add so that no f32 rounding can move it. Callers clamp negative results.
fn round_half_up(v: f32) -> i32 { let f = floor(v); return i32(f) + select(0, 1, v - f >= 0.5); }
struct Range { first: u32, count: u32, center: f32, total: f32 }
// _compute_indices_min_size_weights_aa: taps [first, first + count) around center = scale·(d + 0.5).
fn aa_range(scale: f32, support: f32, invscale: f32, max_taps: u32, d: u32, in_size: u32) -> Range {
  var r: Range;
  r.center = rounded(scale * (f32(d) + 0.5));
  let lo = max(round_half_up(r.center - support), 0);
  let hi = min(round_half_up(r.center + support), i32(in_size));
  r.first = u32(lo);
  r.count = u32(clamp(hi - lo, 0, i32(max_taps)));
  var total = 0.0;
  for (var j = 0u; j < r.count; j++) { total += aa_filter((f32(r.first + j) - r.center + 0.5) * invscale); }
  r.total = total;
  return r;
}
fn aa_weight(r: Range, j: u32, invscale: f32) -> f32 {
  let w = aa_filter((f32(r.first + j) - r.center + 0.5) * invscale);
  return select(w, w / r.total, r.total != 0.0); // PyTorch divides each weight by the total
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  let o = out_coords(i);
  let ry = aa_range(p.scale_y, p.support_y, p.invscale_y, p.taps_y, o.oy, p.in_h);
  let rx = aa_range(p.scale_x, p.support_x, p.invscale_x, p.taps_x, o.ox, p.in_w);
  var acc = 0.0;
  for (var jy = 0u; jy < ry.count; jy++) {
    var row = 0.0;
    for (var jx = 0u; jx < rx.count; jx++) {
      row += at(o.b, ry.first + jy, rx.first + jx, o.ch) * aa_weight(rx, jx, p.invscale_x);
    }
    acc += row * aa_weight(ry, jy, p.invscale_y);
  }
  out[i] = T(acc);
}
`;
}
