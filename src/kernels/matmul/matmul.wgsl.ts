// GEMM kernels (the engine's workhorse: every torch.nn.Linear, 1×1 conv in NHWC and batched product).
//
// out[bi, m, n] = alpha * act(Σ_k A[bi, m, k] · B[bi, k, n] + bias[n]) + residual[bi, m, n]
//
// Strategy "regblock": each invocation computes a 16-row × 8-column output block held in eight 4×4
// f32 accumulator matrices; no shared memory and no barriers (both are slow on CPU WebGPU adapters).
// The lanes of a workgroup split the columns while all of them share the same 16 rows, so the A
// loads have workgroup-uniform addresses (a software rasterizer turns those into one scalar load +
// broadcast) and only the B loads differ per lane. Loads are clamped to the last row/column instead
// of branching, so the K loop has no bounds checks; stores are guarded.
//
// Three sources share the epilogue:
//  - vec4 with B as [N, K] ("nk": PyTorch Linear weights, matmul with transB), needs K % 4 == 0;
//  - vec4 with B as [K, N] ("kn": plain matmul), needs K % 4 == 0 and N % 4 == 0;
//  - scalar with B addressed through (stride_n, stride_k), any K and N.
// With `norm` (GemmSpec.normA), a LayerNorm prologue normalizes A's rows on load: each invocation
// first computes the statistics of its 16 rows (ln_stats, the shifted two-pass sums of
// layer-norm.wgsl.ts), then load_a_rows / load_a_col return (A − mean) · rstd · γ + β.
// `load_b_tile` / `load_b_row` are the weight-load seam: packed weights (f16/bf16/int8/int4, see
// matmul-packed.wgsl.ts) replace only them and the `b` binding (GemmBSeam). Activations (a, bias,
// residual, out) are stored as `T` and float weights B as `TB`, each f32 or f16 independently;
// accumulation is always f32.
import { ERF_GELU } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

/** Output rows per invocation (and per workgroup: the lanes share the rows). Must match the WGSL below. */
export const GEMM_TILE_M = 16;
/** Output columns per invocation. Must match the WGSL below. */
export const GEMM_TILE_N = 8;

export type Activation = 'none' | 'relu' | 'gelu';
/** Activation selector passed as the uniform `act` (a uniform branch in the epilogue, not a pipeline). */
export const ACTIVATION_CODE: Record<Activation, number> = { none: 0, relu: 1, gelu: 2 };

/** Layout of B in the vec4 kernels: [N, K] (x·Wᵀ) or [K, N] (a·b). */
export type BLayout = 'nk' | 'kn';

/** Residual source: none, the `residual` binding, or the output buffer itself (in-place `out += ...`). */
export const RESIDUAL_MODE = { none: 0, binding: 1, inPlace: 2 } as const;

/**
 * `enable f16;` where either storage type needs it, then `alias T` (activations: a, bias, residual,
 * out) and `alias TB` (weights B). Shared by every GEMM variant.
 */
export function gemmHeader(act: DType, weight: DType): string {
  for (const d of [act, weight]) if (d !== 'f32' && d !== 'f16') throw new Error(`GEMM: no float storage type for ${d}`);
  const f16 = act === 'f16' || weight === 'f16' ? 'enable f16;\n' : '';
  return `${f16}alias T = ${act};\nalias TB = ${weight};\n`;
}

/** Uniforms of every GEMM variant (one struct, filled by gemmUniforms). */
export const GEMM_PARAMS = /* wgsl */ `
struct Params {
  m: u32, n: u32, k: u32, batch: u32,
  row_blocks: u32, a_batch: u32, b_batch: u32, out_batch: u32,
  b_stride_n: u32, b_stride_k: u32, has_bias: u32, act: u32,
  res_mode: u32, alpha: f32,
  q_scale_off: u32, q_group: u32, // packed-B seam only (scale word offset, elements per scale)
}
`;

// The Params of the LayerNorm prologue's kernels: GEMM_PARAMS + eps (gemmUniforms writes it last;
// the other kernels ignore the trailing word, so their sources stay as they were).
const NORM_PARAMS = GEMM_PARAMS.replace('q_group: u32,', 'q_group: u32,\n  ln_eps: f32,');

/** Bindings 2..5 of every GEMM variant: bias, residual, out (all `T`) and the uniforms. */
export const GEMM_OUT_BINDINGS = /* wgsl */ `
@group(0) @binding(2) var<storage, read> bias: array<T>;
@group(0) @binding(3) var<storage, read> residual: array<T>;
@group(0) @binding(4) var<storage, read_write> out: array<T>;
@group(0) @binding(5) var<uniform> p: Params;
`;

// With the LayerNorm prologue, γ and β take bindings 5 and 6 and the uniforms move to 7
// (the launcher puts the uniforms after the last storage binding).
const NORM_OUT_BINDINGS = /* wgsl */ `
@group(0) @binding(2) var<storage, read> bias: array<T>;
@group(0) @binding(3) var<storage, read> residual: array<T>;
@group(0) @binding(4) var<storage, read_write> out: array<T>;
@group(0) @binding(7) var<uniform> p: Params;
`;

function bindingsTail(norm: boolean): string {
  return `${norm ? NORM_OUT_BINDINGS : GEMM_OUT_BINDINGS}
override WG: u32 = 8;
`;
}

// Statistics of the invocation's 16 rows (row0 .. row0 + 15, clamped like the loads): row
// row0 + 4i + r has shift ln_sh[i][r] (its first value), shifted mean ln_mu[i][r] and
// 1/sqrt(var + eps) ln_rs[i][r]. Two sweeps per row, as layer-norm.wgsl.ts.
function lnStats(vec4: boolean): string {
  const n = vec4 ? 'p.k / 4u' : 'p.k';
  const ld = vec4 ? 'vec4<f32>(a[at + q])' : 'f32(a[at + q])';
  const first = vec4 ? 'f32(a[at].x)' : 'f32(a[at])';
  const sum = vec4 ? 's.x + s.y + s.z + s.w' : 's';
  const sq = vec4 ? 'v.x + v.y + v.z + v.w' : 'v';
  const zero = vec4 ? 'vec4<f32>()' : '0.0';
  return /* wgsl */ `
var<private> ln_row0: u32;
var<private> ln_sh: array<vec4<f32>, 4>;
var<private> ln_mu: array<vec4<f32>, 4>;
var<private> ln_rs: array<vec4<f32>, 4>;

fn ln_stats(base: u32, row0: u32) {
  ln_row0 = row0;
  let last = p.m - 1u;
  let n = ${n};
  for (var i = 0u; i < 4u; i++) {
    for (var r = 0u; r < 4u; r++) {
      let at = base + min(row0 + 4u * i + r, last) * n;
      let shift = ${first};
      var s = ${zero};
      for (var q = 0u; q < n; q++) { s += ${ld} - shift; }
      let m = (${sum}) / f32(p.k);
      var v = ${zero};
      for (var q = 0u; q < n; q++) {
        let d = (${ld} - shift) - m;
        v += d * d;
      }
      ln_sh[i][r] = shift;
      ln_mu[i][r] = m;
      ln_rs[i][r] = 1.0 / sqrt((${sq}) / f32(p.k) + p.ln_eps);
    }
  }
}
`;
}

/** The fused epilogue of every GEMM variant: bias, activation, alpha, residual (binding or in place). */
export const GEMM_EPILOGUE = /* wgsl */ `
${ERF_GELU}
fn epilogue(v: f32, col: u32, idx: u32) -> f32 {
  var y = v;
  if (p.has_bias != 0u) { y += f32(bias[col]); }
  if (p.act == 1u) { y = max(y, 0.0); } else if (p.act == 2u) { y = gelu_erf(y); }
  y *= p.alpha;
  if (p.res_mode == 1u) { y += f32(residual[idx]); } else if (p.res_mode == 2u) { y += f32(out[idx]); }
  return y;
}
`;

const EPILOGUE = /* wgsl */ `
${GEMM_EPILOGUE}

// Stores the 16×8 block held in 'tiles' (tile 2i + j covers rows row + 4i.., columns col + 4j..;
// tile[r][c] is output (row + 4i + r, col + 4j + c)). One loop, so the epilogue is compiled once
// rather than inlined for each of the 128 outputs (which made lavapipe's compile take a minute).
fn store_block(tiles: ptr<function, array<mat4x4<f32>, 8>>, base: u32, row: u32, col: u32) {
  for (var e = 0u; e < 128u; e++) {
    let t = e / 16u;
    let r = row + (t / 2u) * 4u + (e / 4u) % 4u;
    let c = col + (t % 2u) * 4u + e % 4u;
    if (r < p.m && c < p.n) {
      let idx = base + r * p.n + c;
      out[idx] = T(epilogue((*tiles)[t][(e / 4u) % 4u][e % 4u], c, idx));
    }
  }
}
`;

// Block coordinates. Workgroups fold (batch × row blocks) over y and z; x covers the columns.
const BLOCK_IDS = /* wgsl */ `
  let g = wid.y + wid.z * nwg.y;
  if (g >= p.batch * p.row_blocks) { return; }
  let bi = g / p.row_blocks;
  let row = (g % p.row_blocks) * 16u;
  let col = (wid.x * WG + lid.x) * 8u;
  if (col >= p.n) { return; }
`;

const ENTRY = /* wgsl */ `@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>)`;

const STORE_BLOCK = /* wgsl */ `
  var tiles = array<mat4x4<f32>, 8>(c00, c01, c10, c11, c20, c21, c30, c31);
  store_block(&tiles, bi * p.out_batch, row, col);
`;

// Returns the 4(k) × 4(n) slice of B at k-quad kq and columns col..col+3 as a matrix whose column j
// holds B[4kq + j, col..col+3], so `tile * a_col` accumulates four outputs of one row.
const LOAD_B_TILE: Record<BLayout, string> = {
  nk: /* wgsl */ `
fn load_b_tile(base: u32, col: u32, kq: u32) -> mat4x4<f32> {
  let last = p.n - 1u;
  let kv = p.k / 4u;
  return transpose(mat4x4<f32>(
    vec4<f32>(b[base + min(col, last) * kv + kq]), vec4<f32>(b[base + min(col + 1u, last) * kv + kq]),
    vec4<f32>(b[base + min(col + 2u, last) * kv + kq]), vec4<f32>(b[base + min(col + 3u, last) * kv + kq])));
}`,
  kn: /* wgsl */ `
fn load_b_tile(base: u32, col: u32, kq: u32) -> mat4x4<f32> {
  let nv = p.n / 4u;
  let c = base + min(col / 4u, nv - 1u);
  let k0 = kq * 4u * nv;
  return mat4x4<f32>(vec4<f32>(b[c + k0]), vec4<f32>(b[c + k0 + nv]),
                     vec4<f32>(b[c + k0 + 2u * nv]), vec4<f32>(b[c + k0 + 3u * nv]));
}`,
};

/** Binding 1 and its load function: how a kernel reads B (float `b`, or a packed weight). */
export interface GemmBSeam {
  /** Declares binding 1 (and any decoding helpers). */
  decl: string;
  /** `load_b_tile` (vec4 kernels) or `load_b_row` (scalar kernel). */
  load: string;
}

/** vec4 kernel: A [batch, M, K] and B in `layout`, both read as vec4 along their contiguous axis. */
export function gemmVec4Source(layout: BLayout, dtype: DType, weight: DType = dtype, seam?: GemmBSeam, norm = false): string {
  return /* wgsl */ `${gemmHeader(dtype, weight)}
${norm ? NORM_PARAMS : GEMM_PARAMS}
@group(0) @binding(0) var<storage, read> a: array<vec4<T>>;
${seam?.decl ?? '@group(0) @binding(1) var<storage, read> b: array<vec4<TB>>;'}
${bindingsTail(norm)}
${EPILOGUE}
${seam?.load ?? LOAD_B_TILE[layout]}

// Rows row..row+3 of A at k-quad kq; column r of the result is A[row + r, 4kq..4kq+3].
fn ${norm ? 'load_a_raw' : 'load_a_rows'}(base: u32, row: u32, kq: u32) -> mat4x4<f32> {
  let last = p.m - 1u;
  let kv = p.k / 4u;
  return mat4x4<f32>(
    vec4<f32>(a[base + min(row, last) * kv + kq]), vec4<f32>(a[base + min(row + 1u, last) * kv + kq]),
    vec4<f32>(a[base + min(row + 2u, last) * kv + kq]), vec4<f32>(a[base + min(row + 3u, last) * kv + kq]));
}${norm ? `\n${NORM_A_ROWS}` : ''}

${ENTRY} {
${BLOCK_IDS}
  let a_base = bi * (p.a_batch / 4u);
  let b_base = bi * (p.b_batch / 4u);${norm ? '\n  ln_stats(a_base, row);' : ''}
  // c<i><j>: rows row + 4i .. +3, columns col + 4j .. +3; c[r][c] = out(row + 4i + r, col + 4j + c).
  var c00 = mat4x4<f32>(); var c01 = mat4x4<f32>();
  var c10 = mat4x4<f32>(); var c11 = mat4x4<f32>();
  var c20 = mat4x4<f32>(); var c21 = mat4x4<f32>();
  var c30 = mat4x4<f32>(); var c31 = mat4x4<f32>();
  let kv = p.k / 4u;
  for (var kq = 0u; kq < kv; kq++) {
    let b0 = load_b_tile(b_base, col, kq);
    let b1 = load_b_tile(b_base, col + 4u, kq);
    let a0 = load_a_rows(a_base, row, kq);
    c00 += b0 * a0; c01 += b1 * a0;
    let a1 = load_a_rows(a_base, row + 4u, kq);
    c10 += b0 * a1; c11 += b1 * a1;
    let a2 = load_a_rows(a_base, row + 8u, kq);
    c20 += b0 * a2; c21 += b1 * a2;
    let a3 = load_a_rows(a_base, row + 12u, kq);
    c30 += b0 * a3; c31 += b1 * a3;
  }
${STORE_BLOCK}
}
`;
}

// load_a_rows of the LayerNorm prologue: the same 4×4 block, normalized (column r is row row + r).
const NORM_A_ROWS = /* wgsl */ `
@group(0) @binding(5) var<storage, read> ln_w: array<vec4<T>>;
@group(0) @binding(6) var<storage, read> ln_b: array<vec4<T>>;
${lnStats(true)}
fn load_a_rows(base: u32, row: u32, kq: u32) -> mat4x4<f32> {
  let x = load_a_raw(base, row, kq);
  let i = (row - ln_row0) / 4u;
  let g = vec4<f32>(ln_w[kq]);
  let b = vec4<f32>(ln_b[kq]);
  let sh = ln_sh[i];
  let mu = ln_mu[i];
  let rs = ln_rs[i];
  return mat4x4<f32>(((x[0] - sh.x) - mu.x) * rs.x * g + b, ((x[1] - sh.y) - mu.y) * rs.y * g + b,
                     ((x[2] - sh.z) - mu.z) * rs.z * g + b, ((x[3] - sh.w) - mu.w) * rs.w * g + b);
}`;

// load_a_col of the LayerNorm prologue: A[row..row+3, k] normalized (one value per row).
const NORM_A_COL = /* wgsl */ `
@group(0) @binding(5) var<storage, read> ln_w: array<T>;
@group(0) @binding(6) var<storage, read> ln_b: array<T>;
${lnStats(false)}
fn load_a_col(base: u32, row: u32, k: u32) -> vec4<f32> {
  let i = (row - ln_row0) / 4u;
  return ((load_a_raw(base, row, k) - ln_sh[i]) - ln_mu[i]) * ln_rs[i] * f32(ln_w[k]) + f32(ln_b[k]);
}`;

// B[k, col..col+3] (weight-load seam of the scalar path).
const LOAD_B_ROW = /* wgsl */ `
fn load_b_row(base: u32, col: u32, k: u32) -> vec4<f32> {
  let last = p.n - 1u;
  let kb = base + k * p.b_stride_k;
  return vec4<f32>(f32(b[kb + min(col, last) * p.b_stride_n]), f32(b[kb + min(col + 1u, last) * p.b_stride_n]),
                   f32(b[kb + min(col + 2u, last) * p.b_stride_n]), f32(b[kb + min(col + 3u, last) * p.b_stride_n]));
}`;

/** Scalar kernel for any K and N: A [batch, M, K] row-major, B[k, n] at b_stride_k * k + b_stride_n * n. */
export function gemmScalarSource(dtype: DType, weight: DType = dtype, seam?: GemmBSeam, norm = false): string {
  return /* wgsl */ `${gemmHeader(dtype, weight)}
${norm ? NORM_PARAMS : GEMM_PARAMS}
@group(0) @binding(0) var<storage, read> a: array<T>;
${seam?.decl ?? '@group(0) @binding(1) var<storage, read> b: array<TB>;'}
${bindingsTail(norm)}
${EPILOGUE}
${seam?.load ?? LOAD_B_ROW}

// A[row..row+3, k].
fn ${norm ? 'load_a_raw' : 'load_a_col'}(base: u32, row: u32, k: u32) -> vec4<f32> {
  let last = p.m - 1u;
  return vec4<f32>(f32(a[base + min(row, last) * p.k + k]), f32(a[base + min(row + 1u, last) * p.k + k]),
                   f32(a[base + min(row + 2u, last) * p.k + k]), f32(a[base + min(row + 3u, last) * p.k + k]));
}${norm ? `\n${NORM_A_COL}` : ''}

// Outer product with column r = bv * av[r] (same accumulator layout as the vec4 kernels).
fn outer(bv: vec4<f32>, av: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(bv * av.x, bv * av.y, bv * av.z, bv * av.w);
}

${ENTRY} {
${BLOCK_IDS}
  let a_base = bi * p.a_batch;
  let b_base = bi * p.b_batch;${norm ? '\n  ln_stats(a_base, row);' : ''}
  var c00 = mat4x4<f32>(); var c01 = mat4x4<f32>();
  var c10 = mat4x4<f32>(); var c11 = mat4x4<f32>();
  var c20 = mat4x4<f32>(); var c21 = mat4x4<f32>();
  var c30 = mat4x4<f32>(); var c31 = mat4x4<f32>();
  for (var k = 0u; k < p.k; k++) {
    let b0 = load_b_row(b_base, col, k);
    let b1 = load_b_row(b_base, col + 4u, k);
    let a0 = load_a_col(a_base, row, k);
    c00 += outer(b0, a0); c01 += outer(b1, a0);
    let a1 = load_a_col(a_base, row + 4u, k);
    c10 += outer(b0, a1); c11 += outer(b1, a1);
    let a2 = load_a_col(a_base, row + 8u, k);
    c20 += outer(b0, a2); c21 += outer(b1, a2);
    let a3 = load_a_col(a_base, row + 12u, k);
    c30 += outer(b0, a3); c31 += outer(b1, a3);
  }
${STORE_BLOCK}
}
`;
}
