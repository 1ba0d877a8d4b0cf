// Layout kernels for Hiera's windowed attention (window_partition / window_unpartition in
// sam2/modeling/backbones/utils.py, the q-pool / shortcut MaxPool2d(2, 2) in hieradet.py) and the
// NCHW <-> NHWC permutes used at the model's inputs and outputs. All feature maps are NHWC.
import { header, LINEAR_ID } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

/**
 * [B, H, W, C] -> [B·nwy·nwx, w, w, C] with windows row-major over the (zero-padded) map and
 * tokens row-major inside a window. Padding positions are written as 0.
 */
export function windowPartitionSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { total: u32, c: u32, h: u32, w: u32, win: u32, n_wx: u32, n_wy: u32 }
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read_write> dst: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.total) { return; }
  let ch = i % p.c;
  let token = i / p.c;
  let tx = token % p.win;
  let ty = (token / p.win) % p.win;
  let window = token / (p.win * p.win);
  let wx = window % p.n_wx;
  let wy = (window / p.n_wx) % p.n_wy;
  let b = window / (p.n_wx * p.n_wy);
  let x = wx * p.win + tx;
  let y = wy * p.win + ty;
  var v = T(0.0);
  if (x < p.w && y < p.h) { v = src[((b * p.h + y) * p.w + x) * p.c + ch]; }
  dst[i] = v;
}
`;
}

/** [B·nwy·nwx, w, w, C] -> [B, H, W, C]: the inverse of the partition, cropping the padding. */
export function windowUnpartitionSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { total: u32, c: u32, h: u32, w: u32, win: u32, n_wx: u32, n_wy: u32 }
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read_write> dst: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.total) { return; }
  let ch = i % p.c;
  let pixel = i / p.c;
  let x = pixel % p.w;
  let y = (pixel / p.w) % p.h;
  let b = pixel / (p.w * p.h);
  let window = (b * p.n_wy + y / p.win) * p.n_wx + x / p.win;
  dst[i] = src[((window * p.win + y % p.win) * p.win + x % p.win) * p.c + ch];
}
`;
}

/**
 * 2×2 max pool with stride 2 (floor: an odd last row/column is dropped, MaxPool2d ceil_mode=False).
 * The input is read through a pixel view (offset, pixel stride, batch stride in elements), so it can
 * pool the q slice of a fused qkv tensor directly; the output is a contiguous [B, H/2, W/2, C].
 */
export function maxPool2x2Source(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { total: u32, c: u32, w: u32, ho: u32, wo: u32, off: u32, pixel: u32, batch: u32 }
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read_write> dst: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.total) { return; }
  let ch = i % p.c;
  let pixel = i / p.c;
  let xo = pixel % p.wo;
  let yo = (pixel / p.wo) % p.ho;
  let b = pixel / (p.wo * p.ho);
  let top = p.off + b * p.batch + (2u * yo * p.w + 2u * xo) * p.pixel + ch;
  let bottom = top + p.w * p.pixel;
  dst[i] = max(max(src[top], src[top + p.pixel]), max(src[bottom], src[bottom + p.pixel]));
}
`;
}

/** Batched transpose [B, R, S] -> [B, S, R]: NCHW -> NHWC is (R, S) = (C, H·W), the reverse (H·W, C). */
export function transposeSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { total: u32, r: u32, s: u32, _pad: u32 }
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read_write> dst: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.total) { return; }
  let r = i % p.r;
  let s = (i / p.r) % p.s;
  let b = i / (p.r * p.s);
  dst[i] = src[(b * p.r + r) * p.s + s];
}
`;
}
