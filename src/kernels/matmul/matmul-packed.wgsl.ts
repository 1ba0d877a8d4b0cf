// Packed-weight B seams of the GEMM variants: B is a Linear weight W [N, K] ('nk', batch 1) kept
// packed on the GPU (f16, bf16, int8, int4, or f32 under f16 activations), dequantized in
// registers by the decoders of packed-weight.wgsl.ts. Only binding 1 and the B load change:
// load_b_tile / load_b_row of the register-blocked kernels (matmul.wgsl.ts), load_b4 of the
// GPU-class kernels (gemm-loads.wgsl.ts: tiled, subgroup); K loops, accumulators and epilogue stay.
import type { DType } from '../../runtime/tensor.js';
import type { WeightFormat } from '../../weights/packed.js';
import { weightSeam } from '../packed-weight/packed-weight.wgsl.js';
import { gemmScalarSource, gemmVec4Source, type GemmBSeam } from './matmul.wgsl.js';

// Same contract as the float 'nk' load_b_tile: column j of the result is W[col..col+3, 4kq + j].
// Needs K % 4 == 0, so the four values of one row never straddle a row (or an int4 group).
const LOAD_B_TILE_PACKED = /* wgsl */ `
fn load_b_tile(base: u32, col: u32, kq: u32) -> mat4x4<f32> {
  let last = p.n - 1u;
  let k0 = 4u * kq;
  return transpose(mat4x4<f32>(
    w_at4(min(col, last) * p.k + k0), w_at4(min(col + 1u, last) * p.k + k0),
    w_at4(min(col + 2u, last) * p.k + k0), w_at4(min(col + 3u, last) * p.k + k0)));
}`;

// B[k, col..col+3] = W[col..col+3, k] for any K.
const LOAD_B_ROW_PACKED = /* wgsl */ `
fn load_b_row(base: u32, col: u32, k: u32) -> vec4<f32> {
  let last = p.n - 1u;
  return vec4<f32>(w_at(min(col, last) * p.k + k), w_at(min(col + 1u, last) * p.k + k),
                   w_at(min(col + 2u, last) * p.k + k), w_at(min(col + 3u, last) * p.k + k));
}`;

/** `norm`: with the LayerNorm prologue on A (GemmSpec.normA). */
export function gemmPackedVec4Source(format: WeightFormat, dtype: DType, norm = false): string {
  const seam: GemmBSeam = { decl: weightSeam(format, 1), load: LOAD_B_TILE_PACKED };
  // TB is unused: binding 1 is the packed words.
  return gemmVec4Source('nk', dtype, 'f32', seam, norm);
}

export function gemmPackedScalarSource(format: WeightFormat, dtype: DType, norm = false): string {
  const seam: GemmBSeam = { decl: weightSeam(format, 1), load: LOAD_B_ROW_PACKED };
  return gemmScalarSource(dtype, 'f32', seam, norm);
}

/**
 * The packed `b` binding + load_b4 of gemm-loads.wgsl.ts ('nk' form: W[n, k..k+3], zero outside
 * the matrix). vec4 needs K % 4 == 0 so a quad never straddles a row (or an int4 group).
 */
export function loadBPacked(format: WeightFormat, vec4: boolean): string {
  const body = vec4
    ? /* wgsl */ `
fn load_b4(base: u32, n: u32, k: u32) -> vec4<f32> {
  if (n >= p.n || k >= p.k) { return vec4<f32>(0.0); }
  return w_at4(n * p.k + k);
}`
    : /* wgsl */ `
fn load_b4(base: u32, n: u32, k: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (n >= p.n) { return v; }
  for (var e = 0u; e < 4u; e++) {
    if (k + e < p.k) { v[e] = w_at(n * p.k + k + e); }
  }
  return v;
}`;
  return `${weightSeam(format, 1)}${body}`;
}
