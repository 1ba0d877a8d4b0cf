// Model-input preprocessing of one slice: uint8 grey or RGB pixels (packed 4 per u32 word) →
// bilinear resize to the model size (half-pixel centres, rounded back to uint8 like the
// frame loader's uint8 output) → per-channel lookup of the ImageNet-normalised float32 value.
// The lookup table holds f32(f32(f32(u/255) - mean_c) / std_c) computed on the host, which
// reproduces SAM 2's two float32 ops bit-exactly without relying on GPU division rounding.
import { header, LINEAR_ID } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

export function preprocessSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { in_w: u32, in_h: u32, out_w: u32, out_h: u32, channels: u32, scale_x: f32, scale_y: f32, _pad: u32 }
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read> lut: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;
@group(0) @binding(3) var<uniform> p: Params;
override WG: u32 = 256;

fn byte_at(i: u32) -> f32 {
  return f32((src[i >> 2u] >> ((i & 3u) * 8u)) & 255u);
}

// Source position of an output pixel centre, clamped to the image (torch bilinear, align_corners=False).
fn source_coord(d: u32, scale: f32, n: u32) -> vec3<f32> {
  let f = max(0.0, (f32(d) + 0.5) * scale - 0.5);
  let i0 = min(u32(floor(f)), n - 1u);
  let i1 = min(i0 + 1u, n - 1u);
  return vec3<f32>(f32(i0), f32(i1), f - f32(i0));
}

// One invocation per output pixel writes its 3 channels ([H, W, 3] channels-last).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.out_w * p.out_h) { return; }
  let x = i % p.out_w;
  let y = i / p.out_w;
  let sx = source_coord(x, p.scale_x, p.in_w);
  let sy = source_coord(y, p.scale_y, p.in_h);
  let x0 = u32(sx.x);
  let x1 = u32(sx.y);
  let y0 = u32(sy.x);
  let y1 = u32(sy.y);
  for (var c = 0u; c < 3u; c++) {
    let ic = select(0u, c, p.channels == 3u);
    let a = byte_at((y0 * p.in_w + x0) * p.channels + ic);
    let b = byte_at((y0 * p.in_w + x1) * p.channels + ic);
    let cc = byte_at((y1 * p.in_w + x0) * p.channels + ic);
    let d = byte_at((y1 * p.in_w + x1) * p.channels + ic);
    let top = a + (b - a) * sx.z;
    let bottom = cc + (d - cc) * sx.z;
    let u = min(255u, u32(floor(top + (bottom - top) * sy.z + 0.5)));
    out[i * 3u + c] = T(lut[c * 256u + u]);
  }
}
`;
}
