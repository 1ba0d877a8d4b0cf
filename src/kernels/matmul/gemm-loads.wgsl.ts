// Global-memory loads shared by the GPU-class GEMM variants (tiled, subgroup, subgroup-matrix).
// Each returns four consecutive values along the operand's contiguous axis as vec4<f32>, zero
// outside the matrix, so tiles at the edges need no other guards:
//   load_a4(base, row, k) = A[row, k..k+3]
//   load_b4(base, i, j)   = B[n = i, k = j..j+3]  ('nk', PyTorch Linear weights)
//                         = B[k = i, n = j..j+3]  ('kn')
// `base` is the element offset of the batch slice. The vec4 forms read `array<vec4<T>>` and need
// the contiguous extent (K for A and 'nk', N for 'kn') to be a multiple of 4; the scalar forms
// work for any size.
//
// `load_b4` is the weight-load seam: a quantized-weight variant replaces only this function and
// the `b` binding (its storage type is `TB`, independent of the activations' `T`).
import type { BLayout } from './matmul.wgsl.js';

/** Whether the vec4 loads apply: A needs K % 4 == 0; B needs K % 4 ('nk') or N % 4 ('kn'). */
export function gemmVec4Aligned(layout: BLayout, k: number, n: number): { a: boolean; b: boolean } {
  return { a: k % 4 === 0, b: layout === 'nk' ? k % 4 === 0 : n % 4 === 0 };
}

/** `a` binding + load_a4. */
export function loadA(vec4: boolean): string {
  return vec4
    ? /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<vec4<T>>;
fn load_a4(base: u32, row: u32, k: u32) -> vec4<f32> {
  if (row >= p.m || k >= p.k) { return vec4<f32>(0.0); }
  return vec4<f32>(a[(base + row * p.k + k) / 4u]);
}`
    : /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<T>;
fn load_a4(base: u32, row: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (row >= p.m) { return v; }
  let at = base + row * p.k;
  for (var j = 0u; j < 4u; j++) {
    if (k + j < p.k) { v[j] = f32(a[at + k + j]); }
  }
  return v;
}`;
}

const LOAD_B: Record<BLayout, { vec4: string; scalar: string }> = {
  nk: {
    vec4: /* wgsl */ `
@group(0) @binding(1) var<storage, read> b: array<vec4<TB>>;
fn load_b4(base: u32, n: u32, k: u32) -> vec4<f32> {
  if (n >= p.n || k >= p.k) { return vec4<f32>(0.0); }
  return vec4<f32>(b[(base + n * p.k + k) / 4u]);
}`,
    scalar: /* wgsl */ `
@group(0) @binding(1) var<storage, read> b: array<TB>;
fn load_b4(base: u32, n: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (n >= p.n) { return v; }
  let at = base + n * p.k;
  for (var e = 0u; e < 4u; e++) {
    if (k + e < p.k) { v[e] = f32(b[at + k + e]); }
  }
  return v;
}`,
  },
  kn: {
    vec4: /* wgsl */ `
@group(0) @binding(1) var<storage, read> b: array<vec4<TB>>;
fn load_b4(base: u32, k: u32, n: u32) -> vec4<f32> {
  if (k >= p.k || n >= p.n) { return vec4<f32>(0.0); }
  return vec4<f32>(b[(base + k * p.n + n) / 4u]);
}`,
    scalar: /* wgsl */ `
@group(0) @binding(1) var<storage, read> b: array<TB>;
fn load_b4(base: u32, k: u32, n: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (k >= p.k) { return v; }
  let at = base + k * p.n;
  for (var e = 0u; e < 4u; e++) {
    if (n + e < p.n) { v[e] = f32(b[at + n + e]); }
  }
  return v;
}`,
  },
};

/** `b` binding + load_b4 for one layout. */
export function loadB(layout: BLayout, vec4: boolean): string {
  return LOAD_B[layout][vec4 ? 'vec4' : 'scalar'];
}
