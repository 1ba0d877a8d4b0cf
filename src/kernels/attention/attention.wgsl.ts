// Memory-efficient scaled-dot-product attention (streaming "flash" softmax), the computation of
// PyTorch's F.scaled_dot_product_attention without mask or dropout as SAM 2 calls it in
// sam2/modeling/backbones/hieradet.py (MultiScaleAttention) and sam2/modeling/sam/transformer.py
// (Attention, RoPEAttention).
import { header } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

/**
 * Head-dim capacity tiers. The per-row q and accumulator live in private arrays whose length must be
 * a WGSL const-expression, so the capacity is part of the source (and of the cache key); the actual
 * head dim is a uniform. Small tiers keep the per-invocation footprint (and lavapipe's compile time)
 * small.
 */
export const HEAD_DIM_TIERS = [64, 128, 256] as const;
export type HeadDimTier = (typeof HEAD_DIM_TIERS)[number];

/**
 * How k and v are read. `vec4`: one 16-byte load per 4 channels; needs every offset, stride and the
 * head dim to be multiples of 4 (true for every SAM 2 shape). `scalar`: any alignment and head dim.
 */
export type KvAccess = 'vec4' | 'scalar';

const KV_VEC4 = /* wgsl */ `
@group(0) @binding(1) var<storage, read> k: array<vec4<T>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<T>>;
fn k4(i: u32) -> vec4<f32> { return vec4<f32>(k[i / 4u]); }
fn v4(i: u32) -> vec4<f32> { return vec4<f32>(v[i / 4u]); }
fn k4_tail(i: u32, n: u32) -> vec4<f32> { return mask_tail(k4(i), n); }
fn v4_tail(i: u32, n: u32) -> vec4<f32> { return mask_tail(v4(i), n); }
`;

const KV_SCALAR = /* wgsl */ `
@group(0) @binding(1) var<storage, read> k: array<T>;
@group(0) @binding(2) var<storage, read> v: array<T>;
fn k4(i: u32) -> vec4<f32> { return vec4<f32>(f32(k[i]), f32(k[i + 1u]), f32(k[i + 2u]), f32(k[i + 3u])); }
fn v4(i: u32) -> vec4<f32> { return vec4<f32>(f32(v[i]), f32(v[i + 1u]), f32(v[i + 2u]), f32(v[i + 3u])); }
// Only channels < n of the last partial chunk are read: the rest may lie past the buffer end.
fn k4_tail(i: u32, n: u32) -> vec4<f32> {
  return vec4<f32>(f32(k[i]), select(0.0, f32(k[i + 1u]), n > 1u), select(0.0, f32(k[i + 2u]), n > 2u), 0.0);
}
fn v4_tail(i: u32, n: u32) -> vec4<f32> {
  return vec4<f32>(f32(v[i]), select(0.0, f32(v[i + 1u]), n > 1u), select(0.0, f32(v[i + 2u]), n > 2u), 0.0);
}
`;

const KV_ACCESS: Record<KvAccess, string> = { vec4: KV_VEC4, scalar: KV_SCALAR };

/**
 * Streaming softmax. Each invocation owns 4 query rows of one (batch item, head) and walks over all
 * keys in tiles of 8, keeping per row the running max `m`, running sum `l` and the unnormalised
 * output in f32. The 4 rows are the 4 lanes of every vec4/mat4x4 below, so a loaded key chunk feeds
 * 4 rows (on lavapipe the loads, not the FMAs, are the cost). Per 4-channel chunk c:
 *   q_chunk  rows = the 4 query rows' channels       -> scores S[j] = q_chunk * k_j (vec over rows)
 *   at[c]    column ch = channel ch of the 4 rows' accumulators (vec over rows)
 * A workgroup covers 4·WG consecutive query rows of a single (batch, head), so every key/value
 * address is workgroup-uniform: scalar loads broadcast across SIMD lanes on lavapipe, a broadcast
 * from cache on GPUs. No shared memory, no barriers. Rows past Nq compute on a clamped row and only
 * skip the store, which keeps all control flow uniform.
 */
export function attentionSource(dtype: DType, tier: HeadDimTier, access: KvAccess): string {
  return /* wgsl */ `${header(dtype)}
struct Params {
  nq: u32, nk: u32, hd: u32, scale: f32,
  q_off: u32, q_row: u32, q_batch: u32,
  k_off: u32, k_row: u32, k_batch: u32,
  v_off: u32, v_row: u32, v_batch: u32,
  o_off: u32, o_row: u32, o_batch: u32,
}
@group(0) @binding(0) var<storage, read> q: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;
override WG: u32 = 8;
const MAX_HD4: u32 = ${tier / 4}u;
const NEG_BIG: f32 = -3.0e38;

fn mask_tail(x: vec4<f32>, n: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), x, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n));
}
fn q4(i: u32, n: u32) -> vec4<f32> {
  return vec4<f32>(f32(q[i]), select(0.0, f32(q[i + 1u]), n > 1u), select(0.0, f32(q[i + 2u]), n > 2u),
                   select(0.0, f32(q[i + 3u]), n > 3u));
}
// Rows = channel chunk o..o+3 (the first n of them) of the 4 query rows starting at base.x..w.
fn q_chunk(base: vec4<u32>, o: u32, n: u32) -> mat4x4<f32> {
  return transpose(mat4x4<f32>(q4(base.x + o, n), q4(base.y + o, n), q4(base.z + o, n), q4(base.w + o, n)));
}
${KV_ACCESS[access]}
// Columns = channel chunk o..o+3 of the 4 keys whose rows start at base.x..w.
fn k_chunk(base: vec4<u32>, o: u32) -> mat4x4<f32> {
  return mat4x4<f32>(k4(base.x + o), k4(base.y + o), k4(base.z + o), k4(base.w + o));
}
fn k_chunk_tail(base: vec4<u32>, o: u32, n: u32) -> mat4x4<f32> {
  return mat4x4<f32>(k4_tail(base.x + o, n), k4_tail(base.y + o, n), k4_tail(base.z + o, n), k4_tail(base.w + o, n));
}
fn v_chunk(base: vec4<u32>, o: u32) -> mat4x4<f32> {
  return mat4x4<f32>(v4(base.x + o), v4(base.y + o), v4(base.z + o), v4(base.w + o));
}
fn v_chunk_tail(base: vec4<u32>, o: u32, n: u32) -> mat4x4<f32> {
  return mat4x4<f32>(v4_tail(base.x + o, n), v4_tail(base.y + o, n), v4_tail(base.z + o, n), v4_tail(base.w + o, n));
}
// m * diag(d): column ch of m (a vec over rows) times d.
fn scale_columns(m: mat4x4<f32>, d: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(m[0] * d, m[1] * d, m[2] * d, m[3] * d);
}

// grid: x = block of 4·WG query rows, y = head, z = batch item. Invocation lid owns rows
// block_start + lid + {0, 1, 2, 3}·WG.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let head = wid.y * p.hd;
  let full4 = p.hd / 4u;
  let tail = p.hd % 4u;
  let n4 = full4 + select(0u, 1u, tail != 0u);
  let rows = vec4<u32>(wid.x * 4u * WG + lid) + vec4<u32>(0u, 1u, 2u, 3u) * WG;
  let q_rows = p.q_off + wid.z * p.q_batch + min(rows, vec4<u32>(p.nq - 1u)) * p.q_row + head;

  var at: array<mat4x4<f32>, MAX_HD4>;
  for (var c = 0u; c < n4; c++) { at[c] = mat4x4<f32>(); }

  let k_base = p.k_off + wid.z * p.k_batch + head;
  let v_base = p.v_off + wid.z * p.v_batch + head;
  let last = vec4<u32>(p.nk - 1u);
  var m = vec4<f32>(NEG_BIG);
  var l = vec4<f32>(0.0);
  for (var j0 = 0u; j0 < p.nk; j0 += 8u) {
    // Keys j0..j0+7 in two groups of 4; keys past Nk read the last key and get weight 0 below.
    let ja = vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u);
    let jb = vec4<u32>(j0) + vec4<u32>(4u, 5u, 6u, 7u);
    let ka = k_base + min(ja, last) * p.k_row;
    let kb = k_base + min(jb, last) * p.k_row;

    // Scores: column j = key j, lane r = query row r. q is re-read per tile (from cache) rather
    // than kept in private memory: that keeps the invocation's footprint at 16·hd bytes (WGSL's
    // portable limit for function variables is 8 KiB) for ~20% more time on lavapipe.
    var sa = mat4x4<f32>();
    var sb = mat4x4<f32>();
    for (var c = 0u; c < full4; c++) {
      let o = 4u * c;
      let qc = q_chunk(q_rows, o, 4u);
      sa += qc * k_chunk(ka, o);
      sb += qc * k_chunk(kb, o);
    }
    if (tail != 0u) {
      let o = 4u * full4;
      let qc = q_chunk(q_rows, o, tail);
      sa += qc * k_chunk_tail(ka, o, tail);
      sb += qc * k_chunk_tail(kb, o, tail);
    }
    sa *= p.scale;
    sb *= p.scale;

    // Online softmax: the new running max over valid keys, the factor exp(m_old - m_new) for what
    // was accumulated so far, and the tile's weights.
    var m_new = m;
    for (var j = 0u; j < 4u; j++) {
      if (ja[j] < p.nk) { m_new = max(m_new, sa[j]); }
      if (jb[j] < p.nk) { m_new = max(m_new, sb[j]); }
    }
    let alpha = exp(m - m_new);
    m = m_new;
    var pa = mat4x4<f32>();
    var pb = mat4x4<f32>();
    for (var j = 0u; j < 4u; j++) {
      pa[j] = select(vec4<f32>(0.0), exp(sa[j] - m_new), ja[j] < p.nk);
      pb[j] = select(vec4<f32>(0.0), exp(sb[j] - m_new), jb[j] < p.nk);
    }
    l = l * alpha + (pa[0] + pa[1] + pa[2] + pa[3]) + (pb[0] + pb[1] + pb[2] + pb[3]);

    // at[c] = at[c]·diag(alpha) + Σ_j p_j ⊗ v_j: (P · Vᵀ)[ch][r] = Σ_j p[r, j] · v_j[ch].
    let va = v_base + min(ja, last) * p.v_row;
    let vb = v_base + min(jb, last) * p.v_row;
    for (var c = 0u; c < full4; c++) {
      let o = 4u * c;
      at[c] = scale_columns(at[c], alpha) + pa * transpose(v_chunk(va, o)) + pb * transpose(v_chunk(vb, o));
    }
    if (tail != 0u) {
      let o = 4u * full4;
      at[full4] = scale_columns(at[full4], alpha) + pa * transpose(v_chunk_tail(va, o, tail)) + pb * transpose(v_chunk_tail(vb, o, tail));
    }
  }

  let inv = 1.0 / l;
  let o_rows = p.o_off + wid.z * p.o_batch + rows * p.o_row + head;
  for (var c = 0u; c < n4; c++) {
    let a = scale_columns(at[c], inv);
    let o = 4u * c;
    for (var r = 0u; r < 4u; r++) {
      if (rows[r] < p.nq) {
        for (var ch = 0u; ch < min(p.hd - o, 4u); ch++) {
          out[o_rows[r] + o + ch] = T(a[ch][r]);
        }
      }
    }
  }
}
`;
}
