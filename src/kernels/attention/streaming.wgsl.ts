// Variant attention-streaming: memory-efficient scaled-dot-product attention (streaming softmax)
// without workgroup memory or barriers, the fastest on CPU adapters. The computation of PyTorch's
// F.scaled_dot_product_attention without mask or dropout as SAM 2 calls it in
// sam2/modeling/backbones/hieradet.py (MultiScaleAttention) and sam2/modeling/sam/transformer.py
// (Attention, RoPEAttention).
import { cfgConsts, type KernelConfig } from '../registry.js';
import { header } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';
import type { AddressMode, HeadDimTier, KvAccess } from './attention-spec.js';
import { ADDRESSING, declareBindings, KV_LOADS, PARAMS, Q_LOADS, type BindingDecl } from './attention-io.wgsl.js';

/**
 * Each invocation owns 4 query rows of one (batch item, head) and walks over all keys in tiles of
 * 8, keeping per row the running max `m`, running sum `l` and the unnormalised output in f32. The 4
 * rows are the 4 lanes of every vec4/mat4x4 below, so a loaded key chunk feeds 4 rows (on lavapipe
 * the loads, not the FMAs, are the cost). Per 4-channel chunk c:
 *   q_chunk  column ch = channel ch of the 4 query rows   -> scores S[j] = q_chunk * k_j (vec over rows)
 *   at[c]    column ch = channel ch of the 4 rows' accumulators (vec over rows)
 * A workgroup covers 4·WG consecutive query rows of a single (batch, head), so every key/value
 * address is workgroup-uniform: scalar loads broadcast across SIMD lanes on lavapipe, a broadcast
 * from cache on GPUs. Rows past Nq compute on a clamped row and only skip the store, which keeps
 * all control flow uniform. The 4 rows' q (rotated or pooled as the address mode says) is loaded
 * once into private memory (qTier·16 bytes; WGSL allows 8 KiB per address space) and the
 * accumulator holds vTier channels of v in function memory; the actual head dims are uniforms.
 */
export function streamingSource(
  dtype: DType,
  qTier: HeadDimTier,
  vTier: HeadDimTier,
  access: KvAccess,
  mode: AddressMode,
  bindings: readonly BindingDecl[],
  cfg: KernelConfig,
): string {
  return /* wgsl */ `${header(dtype)}
${PARAMS}
${declareBindings(bindings)}
${cfgConsts(cfg)}
const MAX_HD4: u32 = ${qTier / 4}u;
const MAX_VHD4: u32 = ${vTier / 4}u;
var<private> q_cache: array<mat4x4<f32>, MAX_HD4>;
${Q_LOADS}
${KV_LOADS[access]}
${ADDRESSING[mode]}

struct QRows { r0: QRow, r1: QRow, r2: QRow, r3: QRow }
// Column ch = channel o + ch (the first n) of the 4 query rows.
fn q_chunk(r: QRows, o: u32, n: u32) -> mat4x4<f32> {
  return transpose(mat4x4<f32>(q_load4(r.r0, o, n), q_load4(r.r1, o, n), q_load4(r.r2, o, n), q_load4(r.r3, o, n)));
}
// Column c = channels o..o+3 of key c (addresses base.c, RoPE table rows rr.c; o is head-relative).
fn k_chunk(base: vec4<u32>, rr: vec4<u32>, o: u32) -> mat4x4<f32> {
  return mat4x4<f32>(k_rope(k4(base.x + o), rr.x, o), k_rope(k4(base.y + o), rr.y, o), k_rope(k4(base.z + o), rr.z, o), k_rope(k4(base.w + o), rr.w, o));
}
fn k_rope_rows(j: vec4<u32>) -> vec4<u32> {
  return vec4<u32>(k_rope_row(j.x), k_rope_row(j.y), k_rope_row(j.z), k_rope_row(j.w));
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
fn k_addr4(b: u32, j: vec4<u32>, head: u32) -> vec4<u32> {
  return vec4<u32>(k_addr(b, j.x), k_addr(b, j.y), k_addr(b, j.z), k_addr(b, j.w)) + vec4<u32>(head);
}
fn v_addr4(b: u32, j: vec4<u32>, head: u32) -> vec4<u32> {
  return vec4<u32>(v_addr(b, j.x), v_addr(b, j.y), v_addr(b, j.z), v_addr(b, j.w)) + vec4<u32>(head);
}

// grid: x = block of 4·WG query rows, y = head, z = batch item. Invocation lid owns rows
// block_start + lid + {0, 1, 2, 3}·WG.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  batch_init(b);
  let qk_head = wid.y * p.hd;
  let v_head = wid.y * p.vhd;
  let full4 = p.hd / 4u;
  let tail = p.hd % 4u;
  let vfull4 = p.vhd / 4u;
  let vtail = p.vhd % 4u;
  let vn4 = vfull4 + select(0u, 1u, vtail != 0u);
  let rows = vec4<u32>(wid.x * 4u * WG + lid) + vec4<u32>(0u, 1u, 2u, 3u) * WG;
  let qrow = min(rows, vec4<u32>(p.nq - 1u));
  let qr = QRows(q_row(b, qrow.x, qk_head), q_row(b, qrow.y, qk_head), q_row(b, qrow.z, qk_head), q_row(b, qrow.w, qk_head));
  let n4 = full4 + select(0u, 1u, tail != 0u);
  for (var c = 0u; c < n4; c++) {
    let o = 4u * c;
    q_cache[c] = q_chunk(qr, o, min(4u, p.hd - o));
  }

  var at: array<mat4x4<f32>, MAX_VHD4>;
  for (var c = 0u; c < vn4; c++) { at[c] = mat4x4<f32>(); }
  var m = vec4<f32>(NEG_BIG);
  var l = vec4<f32>(0.0);

  // Padded window keys all equal the padding token: count them once, as npad equal terms.
  let npad = pad_count(b);
  if (npad > 0u) {
    var s = vec4<f32>(0.0);
    for (var c = 0u; c < n4; c++) {
      let o = 4u * c;
      s += q_cache[c] * pad_k4(qk_head + o, min(4u, p.hd - o));
    }
    m = s * p.scale;
    l = vec4<f32>(f32(npad));
    for (var c = 0u; c < vn4; c++) {
      let pv = pad_v4(v_head + 4u * c, min(4u, p.vhd - 4u * c)) * f32(npad);
      at[c] = mat4x4<f32>(vec4<f32>(pv.x), vec4<f32>(pv.y), vec4<f32>(pv.z), vec4<f32>(pv.w));
    }
  }

  let nk = kv_count(b);
  let last = vec4<u32>(nk - 1u);
  for (var j0 = 0u; j0 < nk; j0 += 8u) {
    // Keys j0..j0+7 in two groups of 4; keys past nk read the last key and get weight 0 below.
    let ja = vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u);
    let jb = vec4<u32>(j0) + vec4<u32>(4u, 5u, 6u, 7u);
    let ka = k_addr4(b, min(ja, last), qk_head);
    let kb = k_addr4(b, min(jb, last), qk_head);
    let ra = k_rope_rows(ja);
    let rb = k_rope_rows(jb);

    // Scores: column j = key j, lane r = query row r.
    var sa = mat4x4<f32>();
    var sb = mat4x4<f32>();
    for (var c = 0u; c < full4; c++) {
      let o = 4u * c;
      let qc = q_cache[c];
      sa += qc * k_chunk(ka, ra, o);
      sb += qc * k_chunk(kb, rb, o);
    }
    if (tail != 0u) {
      let o = 4u * full4;
      let qc = q_cache[full4];
      sa += qc * k_chunk_tail(ka, o, tail);
      sb += qc * k_chunk_tail(kb, o, tail);
    }
    sa *= p.scale;
    sb *= p.scale;

    // Online softmax: the new running max over valid keys, the factor exp(m_old - m_new) for what
    // was accumulated so far, and the tile's weights.
    var m_new = m;
    for (var j = 0u; j < 4u; j++) {
      if (ja[j] < nk) { m_new = max(m_new, sa[j]); }
      if (jb[j] < nk) { m_new = max(m_new, sb[j]); }
    }
    let alpha = exp(m - m_new);
    m = m_new;
    var pa = mat4x4<f32>();
    var pb = mat4x4<f32>();
    for (var j = 0u; j < 4u; j++) {
      pa[j] = select(vec4<f32>(0.0), exp(sa[j] - m_new), ja[j] < nk);
      pb[j] = select(vec4<f32>(0.0), exp(sb[j] - m_new), jb[j] < nk);
    }
    l = l * alpha + (pa[0] + pa[1] + pa[2] + pa[3]) + (pb[0] + pb[1] + pb[2] + pb[3]);

    // at[c] = at[c]·diag(alpha) + Σ_j p_j ⊗ v_j: (P · Vᵀ)[ch][r] = Σ_j p[r, j] · v_j[ch].
    let va = v_addr4(b, min(ja, last), v_head);
    let vb = v_addr4(b, min(jb, last), v_head);
    for (var c = 0u; c < vfull4; c++) {
      let o = 4u * c;
      at[c] = scale_columns(at[c], alpha) + pa * transpose(v_chunk(va, o)) + pb * transpose(v_chunk(vb, o));
    }
    if (vtail != 0u) {
      let o = 4u * vfull4;
      at[vfull4] = scale_columns(at[vfull4], alpha) + pa * transpose(v_chunk_tail(va, o, vtail)) + pb * transpose(v_chunk_tail(vb, o, vtail));
    }
  }

  let inv = 1.0 / l;
  for (var r = 0u; r < 4u; r++) {
    if (o_valid(b, rows[r])) {
      let o_row = o_addr(b, rows[r]) + v_head;
      for (var c = 0u; c < vn4; c++) {
        let a = scale_columns(at[c], inv);
        let o = 4u * c;
        for (var ch = 0u; ch < min(p.vhd - o, 4u); ch++) {
          out[o_row + o + ch] = T(a[ch][r]);
        }
      }
    }
  }
}
`;
}
