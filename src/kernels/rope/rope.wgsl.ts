// Axial rotary position encoding (apply_rotary_enc in sam2/modeling/position_encoding.py): channel
// pairs (2m, 2m+1) of every head are a complex number multiplied by the table entry (cos, sin) of
// the token's grid position.
import { header, LINEAR_ID } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

/** In place on one read-write buffer, or from src into a separate dst. */
export type RopeMode = 'inplace' | 'copy';

const INPLACE_IO = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> x: array<T>;
@group(0) @binding(1) var<storage, read> table: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> p: Params;
fn load_pair(i: u32) -> vec2<f32> { return vec2<f32>(f32(x[i]), f32(x[i + 1u])); }
fn store_pair(i: u32, v: vec2<f32>) { x[i] = T(v.x); x[i + 1u] = T(v.y); }
`;

const COPY_IO = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read> table: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<T>;
@group(0) @binding(3) var<uniform> p: Params;
fn load_pair(i: u32) -> vec2<f32> { return vec2<f32>(f32(src[i]), f32(src[i + 1u])); }
fn store_pair(i: u32, v: vec2<f32>) { dst[i] = T(v.x); dst[i + 1u] = T(v.y); }
`;

const IO: Record<RopeMode, string> = { inplace: INPLACE_IO, copy: COPY_IO };

/**
 * One invocation per channel pair of a token. Token t < n_rotated uses grid position t mod n_grid
 * (rope_k_repeat: every memory frame reuses the query grid); tokens past n_rotated (object
 * pointers, `num_k_exclude_rope`) are copied unchanged.
 */
export function ropeSource(dtype: DType, mode: RopeMode): string {
  return /* wgsl */ `${header(dtype)}
struct Params {
  n_pairs: u32,        // tokens processed × pairs per token
  pairs_per_token: u32,// heads · head_dim / 2
  half_dim: u32,       // head_dim / 2: pairs per head = table entries per position
  n_rotated: u32,
  n_grid: u32,
  src_off: u32, src_row: u32,
  dst_off: u32, dst_row: u32,
}
${IO[mode]}
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n_pairs) { return; }
  let t = i / p.pairs_per_token;
  let pair = i % p.pairs_per_token;
  let a = load_pair(p.src_off + t * p.src_row + 2u * pair);
  var r = a;
  if (t < p.n_rotated) {
    let cs = table[(t % p.n_grid) * p.half_dim + pair % p.half_dim];
    // (a0 + i·a1)·(cos + i·sin)
    r = vec2<f32>(a.x * cs.x - a.y * cs.y, a.x * cs.y + a.y * cs.x);
  }
  store_pair(p.dst_off + t * p.dst_row + 2u * pair, r);
}
`;
}
