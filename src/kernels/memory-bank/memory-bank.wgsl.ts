// Memory-bank kernels: bfloat16 storage of memory features (the official predictor stores
// `maskmem_features` as bf16, and that rounding is part of its numerics) and the per-frame gather
// that lays out memory tokens and their positional encodings for memory attention.
import { header, LINEAR_ID } from '../wgsl.js';

/** f32 -> bf16 round-to-nearest-even, two values packed per u32 (low half first). */
export function bf16StoreSource(): string {
  return /* wgsl */ `${header('f32')}
struct Params { n: u32, dst_offset_words: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> bank: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

fn to_bf16(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  // NaN stays NaN (quiet); otherwise round half to even on the 16 dropped bits.
  if ((b & 0x7fffffffu) > 0x7f800000u) { return (b >> 16u) | 0x40u; }
  return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
}

// One invocation per packed word (elements 2w and 2w+1). n must be even (memDim is).
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = ${LINEAR_ID};
  if (2u * w >= p.n) { return; }
  let lo = to_bf16(src[2u * w]);
  let hi = to_bf16(src[2u * w + 1u]);
  bank[p.dst_offset_words + w] = lo | (hi << 16u);
}
`;
}

/**
 * memory [M, D] and memory_pos [M, D]: rows [0, nSpatial*HW) come from bf16 bank slots listed in
 * `table` (pairs: slot index, maskmem_tpos_enc index), with pos = maskmem_pos + tpos; the remaining
 * rows are object-pointer tokens: pointer p (a C-vector, row `ptr_rows[p]` of the pointer store)
 * split into C/D tokens of D consecutive channels, all with pos = ptr_pos[p].
 */
export function gatherSource(): string {
  return /* wgsl */ `${header('f32')}
struct Params { hw: u32, d: u32, n_spatial: u32, n_ptr: u32, split: u32, c: u32, slot_words: u32, total: u32 }
@group(0) @binding(0) var<storage, read> bank: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read> maskmem_pos: array<f32>;
@group(0) @binding(3) var<storage, read> tpos_enc: array<f32>;
@group(0) @binding(4) var<storage, read> ptr_store: array<f32>;
@group(0) @binding(5) var<storage, read> ptr_pos: array<f32>;
@group(0) @binding(6) var<storage, read_write> memory: array<f32>;
@group(0) @binding(7) var<storage, read_write> memory_pos: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;
override WG: u32 = 256;

fn bf16_at(slot: u32, e: u32) -> f32 {
  let word = bank[slot * p.slot_words + (e >> 1u)];
  let bits = select(word & 0xffffu, word >> 16u, (e & 1u) == 1u);
  return bitcast<f32>(bits << 16u);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.total) { return; }
  let row = i / p.d;
  let ch = i % p.d;
  let spatial_rows = p.n_spatial * p.hw;
  if (row < spatial_rows) {
    let m = row / p.hw;
    let t = row % p.hw;
    let slot = table[2u * m];
    let tpos = table[2u * m + 1u];
    memory[i] = bf16_at(slot, t * p.d + ch);
    memory_pos[i] = maskmem_pos[t * p.d + ch] + tpos_enc[tpos * p.d + ch];
  } else {
    let r = row - spatial_rows;
    let ptr = r / p.split;
    let j = r % p.split;
    let src_row = table[2u * p.n_spatial + ptr];
    memory[i] = ptr_store[src_row * p.c + j * p.d + ch];
    memory_pos[i] = ptr_pos[ptr * p.d + ch];
  }
}
`;
}
