// Variants attention-flash and attention-flash-splitkv: FlashAttention-2-style attention for GPUs
// (Dao 2023, "FlashAttention-2"), the same computation as streaming.wgsl.ts.
import { cfgConsts, type KernelConfig } from '../registry.js';
import { header } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';
import type { AddressMode, HeadDimTier, KvAccess } from './attention-spec.js';
import { ADDRESSING, declareBindings, KV_LOADS, PARAMS, Q_LOADS, type BindingDecl } from './attention-io.wgsl.js';

/** Element type of the staged q/k/v tiles: the input type, or f16 for f32 inputs (config S16). */
export type StageType = 'f32' | 'f16';

// Rows normalised into `out` (attention-flash).
const EPILOGUE_DIRECT = /* wgsl */ `
fn store_direct(b: u32, head: u32, q0: u32, orow: u32, ocol: u32, acc: ptr<function, array<f32, OM * ON>>) {
  for (var mi = 0u; mi < OM; mi++) {
    let r = orow + OR * mi;
    let i = q0 + r;
    if (o_valid(b, i)) {
      let inv = 1.0 / l_s[r];
      let base = o_addr(b, i) + head * p.vhd;
      for (var n = 0u; n < ON; n++) {
        let col = ocol + OC * n;
        if (col < p.vhd) { out[base + col] = T((*acc)[mi * ON + n] * inv); }
      }
    }
  }
}
`;

// Partials of split s, row id ((s·batch + b)·heads + h)·nq + i: the unnormalised accumulator
// (opart, vhd channels) and the row's running max and sum (ml); attention_splitkv_reduce merges them.
const EPILOGUE_PARTIAL = /* wgsl */ `
fn store_partial(b: u32, split: u32, head: u32, q0: u32, orow: u32, ocol: u32, acc: ptr<function, array<f32, OM * ON>>) {
  for (var mi = 0u; mi < OM; mi++) {
    let r = orow + OR * mi;
    let i = q0 + r;
    if (i < p.nq) {
      let row = ((split * p.batch + b) * p.heads + head) * p.nq + i;
      for (var n = 0u; n < ON; n++) {
        let col = ocol + OC * n;
        if (col < p.vhd) { opart[row * p.vhd + col] = (*acc)[mi * ON + n]; }
      }
      if (ocol == 0u) {
        ml[2u * row] = m_s[r];
        ml[2u * row + 1u] = l_s[r];
      }
    }
  }
}
`;

const STAGE_ALIAS: Record<StageType, string> = { f32: 'alias ST = f32;', f16: 'alias ST = f16;' };

/**
 * A workgroup owns BR query rows of one (batch item, head) and walks the keys (of its split) in
 * tiles of BC. Per tile:
 *   1. S = (scale·Q)·Kᵀ: the head dim in chunks of DK; each chunk of Q (BR × DK, RoPE / q-pool
 *      applied while loading) and of K (BC × DK) is staged in workgroup memory; invocation
 *      (sr, sc) of an SR × SC grid accumulates SM rows × SN keys of S in registers.
 *   2. S goes to workgroup memory; invocation r < BR updates row r's running max m and sum l
 *      (f32), turns its scores into weights P and leaves the rescale factor alpha.
 *   3. O = diag(alpha)·O + P·V: V in chunks of KC keys staged in workgroup memory; invocation
 *      (orow, ocol) of an OR × OC grid owns OM rows × ON channels (ocol + OC·n) of O, so the
 *      accumulator is spread over the workgroup: at head dim 256 and the default 128
 *      invocations, 64 floats each instead of 256 per row.
 * Rows past nq, keys past the tile's end and channels past the head dim are loaded as 0 and
 * never stored; control flow around barriers depends only on uniforms and the workgroup id.
 */
export function flashSource(
  dtype: DType,
  stage: StageType,
  vTier: HeadDimTier,
  access: KvAccess,
  mode: AddressMode,
  bindings: readonly BindingDecl[],
  cfg: KernelConfig,
): string {
  const enableStage = stage === 'f16' && dtype !== 'f16' ? 'enable f16;' : '';
  return /* wgsl */ `${enableStage}${header(dtype)}
${STAGE_ALIAS[stage]}
${PARAMS}
${declareBindings(bindings)}
${cfgConsts(cfg)}
const VCAP: u32 = ${vTier}u;
const SN: u32 = 4u;             // keys per invocation in S
const SC: u32 = BC / SN;        // invocations across a tile's keys
const SR: u32 = WG / SC;        // ... and across its rows
const SM: u32 = BR / SR;        // rows per invocation in S
const OC: u32 = 16u;            // invocations across the v channels
const OR: u32 = WG / OC;
const OM: u32 = BR / OR;        // rows per invocation in O
const ON: u32 = VCAP / OC;      // channels per invocation in O
const QS: u32 = DK + 1u;        // padded row stride of staged q/k chunks (no bank conflicts)
const KBASE: u32 = BR * QS;
const STAGE_LEN: u32 = max(KBASE + BC * QS, KC * VCAP);
var<workgroup> stage: array<ST, STAGE_LEN>;
var<workgroup> p_s: array<f32, BR * BC>;
var<workgroup> m_s: array<f32, BR>;
var<workgroup> l_s: array<f32, BR>;
var<workgroup> a_s: array<f32, BR>;
var<workgroup> j_end_s: u32;
${Q_LOADS}
${KV_LOADS[access]}
${ADDRESSING[mode]}

fn stage4(at: u32, x: vec4<f32>) {
  stage[at] = ST(x.x);
  stage[at + 1u] = ST(x.y);
  stage[at + 2u] = ST(x.z);
  stage[at + 3u] = ST(x.w);
}
${EPILOGUE_DIRECT}
${EPILOGUE_PARTIAL}

// grid: x = block of BR query rows, y = head, z = batch item · n_split + split.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z / p.n_split;
  let split = wid.z % p.n_split;
  batch_init(b);
  // The key range is the same for the whole workgroup; loading it through workgroup memory makes
  // that visible to the uniformity analysis (a window's key count comes from private state).
  let j_begin = split * p.key_chunk;
  if (lid == 0u) {
    let nkv = kv_count(b);
    j_end_s = min(nkv, j_begin + min(p.key_chunk, nkv));
  }
  let j_end = workgroupUniformLoad(&j_end_s);
  let q0 = wid.x * BR;
  let qk_head = wid.y * p.hd;
  let v_head = wid.y * p.vhd;
  let last_q = p.nq - 1u;
  let sr = lid / SC;
  let sc = lid % SC;
  let orow = lid / OC;
  let ocol = lid % OC;

  var acc: array<f32, OM * ON>;
  for (var x = 0u; x < OM * ON; x++) { acc[x] = 0.0; }
  if (lid < BR) {
    m_s[lid] = NEG_BIG;
    l_s[lid] = 0.0;
  }
  // Padded window keys all equal the padding token: counted once, as npad equal terms.
  let npad = select(0u, pad_count(b), split == 0u);
  if (npad > 0u) {
    if (lid < BR) {
      let qr = q_row(b, min(q0 + lid, last_q), qk_head);
      var d = 0.0;
      for (var o = 0u; o < p.hd; o += 4u) {
        let n = min(4u, p.hd - o);
        d += dot(q_load4(qr, o, n), pad_k4(qk_head + o, n));
      }
      m_s[lid] = d * p.scale;
      l_s[lid] = f32(npad);
    }
    for (var n = 0u; n < ON; n++) {
      let col = ocol + OC * n;
      let pv = select(0.0, f32(npad) * pad_v4(v_head + col, 1u).x, col < p.vhd);
      for (var mi = 0u; mi < OM; mi++) { acc[mi * ON + n] = pv; }
    }
  }

  for (var j0 = j_begin; j0 < j_end; j0 += BC) {
    // 1. S = (scale·Q)·Kᵀ for keys j0..j0+BC-1.
    // (Zeroed explicitly: a declaration inside a loop is not re-initialised on every driver.)
    var s: array<f32, SM * SN>;
    for (var x = 0u; x < SM * SN; x++) { s[x] = 0.0; }
    for (var d0 = 0u; d0 < p.hd; d0 += DK) {
      workgroupBarrier();
      for (var g = lid; g < BR * (DK / 4u); g += WG) {
        let r = g / (DK / 4u);
        let c4 = (g % (DK / 4u)) * 4u;
        let o = d0 + c4;
        var x = vec4<f32>(0.0);
        if (o < p.hd) { x = q_load4(q_row(b, min(q0 + r, last_q), qk_head), o, min(4u, p.hd - o)) * p.scale; }
        stage4(r * QS + c4, x);
      }
      for (var g = lid; g < BC * (DK / 4u); g += WG) {
        let r = g / (DK / 4u);
        let c4 = (g % (DK / 4u)) * 4u;
        let o = d0 + c4;
        let j = j0 + r;
        var x = vec4<f32>(0.0);
        if (o < p.hd && j < j_end) {
          let a = k_addr(b, j) + qk_head + o;
          if (p.hd - o >= 4u) { x = k_rope(k4(a), k_rope_row(j), o); } else { x = k4_tail(a, p.hd - o); }
        }
        stage4(KBASE + r * QS + c4, x);
      }
      workgroupBarrier();
      let dn = min(DK, p.hd - d0);
      for (var d = 0u; d < dn; d++) {
        var qv: array<f32, SM>;
        for (var mi = 0u; mi < SM; mi++) { qv[mi] = f32(stage[(sr + SR * mi) * QS + d]); }
        for (var n = 0u; n < SN; n++) {
          let kv = f32(stage[KBASE + (sc + SC * n) * QS + d]);
          for (var mi = 0u; mi < SM; mi++) { s[mi * SN + n] += qv[mi] * kv; }
        }
      }
    }
    for (var mi = 0u; mi < SM; mi++) {
      for (var n = 0u; n < SN; n++) {
        let c = sc + SC * n;
        p_s[(sr + SR * mi) * BC + c] = select(NEG_BIG, s[mi * SN + n], j0 + c < j_end);
      }
    }
    workgroupBarrier();

    // 2. Online softmax per row (f32).
    if (lid < BR) {
      let m_old = m_s[lid];
      var mx = m_old;
      for (var c = 0u; c < BC; c++) { mx = max(mx, p_s[lid * BC + c]); }
      var sum = 0.0;
      for (var c = 0u; c < BC; c++) {
        let e = exp(p_s[lid * BC + c] - mx);
        p_s[lid * BC + c] = e;
        sum += e;
      }
      let alpha = exp(m_old - mx);
      m_s[lid] = mx;
      l_s[lid] = l_s[lid] * alpha + sum;
      a_s[lid] = alpha;
    }
    workgroupBarrier();

    // 3. O = diag(alpha)·O + P·V, V staged KC keys at a time.
    for (var mi = 0u; mi < OM; mi++) {
      let alpha = a_s[orow + OR * mi];
      for (var n = 0u; n < ON; n++) { acc[mi * ON + n] *= alpha; }
    }
    let kn = min(BC, j_end - j0);
    for (var jc = 0u; jc < kn; jc += KC) {
      workgroupBarrier();
      for (var g = lid; g < KC * (VCAP / 4u); g += WG) {
        let r = g / (VCAP / 4u);
        let c4 = (g % (VCAP / 4u)) * 4u;
        let j = j0 + jc + r;
        var x = vec4<f32>(0.0);
        if (c4 < p.vhd && j < j_end) {
          let a = v_addr(b, j) + v_head + c4;
          if (p.vhd - c4 >= 4u) { x = v4(a); } else { x = v4_tail(a, p.vhd - c4); }
        }
        stage4(r * VCAP + c4, x);
      }
      workgroupBarrier();
      for (var kk = 0u; kk < KC; kk++) {
        var pr: array<f32, OM>;
        for (var mi = 0u; mi < OM; mi++) { pr[mi] = p_s[(orow + OR * mi) * BC + jc + kk]; }
        for (var n = 0u; n < ON; n++) {
          let vv = f32(stage[kk * VCAP + ocol + OC * n]);
          for (var mi = 0u; mi < OM; mi++) { acc[mi * ON + n] += pr[mi] * vv; }
        }
      }
    }
  }
  // One pipeline serves both variants: split-KV (a key chunk) writes partials, else out.
  if (p.key_chunk == NO_SPLIT) {
    store_direct(b, wid.y, q0, orow, ocol, &acc);
  } else {
    store_partial(b, split, wid.y, q0, orow, ocol, &acc);
  }
}
`;
}

/**
 * Split-KV pass 2: one invocation per output channel of a row merges the n_split partials
 * (acc_s, m_s, l_s): out = Σ_s e^(m_s − M)·acc_s / Σ_s e^(m_s − M)·l_s with M = max_s m_s.
 */
export function splitKvReduceSource(dtype: DType, bindings: readonly BindingDecl[]): string {
  return /* wgsl */ `${header(dtype)}
${PARAMS}
${declareBindings(bindings)}
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * (nwg.x * WG);
  let rows = p.batch * p.heads * p.nq;
  if (id >= rows * p.vhd) { return; }
  let col = id % p.vhd;
  let row = id / p.vhd;         // (b·heads + h)·nq + i
  let i = row % p.nq;
  let head = (row / p.nq) % p.heads;
  let b = row / (p.nq * p.heads);
  var mx = NEG_BIG;
  for (var s = 0u; s < p.n_split; s++) { mx = max(mx, ml[2u * (s * rows + row)]); }
  var num = 0.0;
  var den = 0.0;
  for (var s = 0u; s < p.n_split; s++) {
    let srow = s * rows + row;
    let w = exp(ml[2u * srow] - mx);
    num += w * opart[srow * p.vhd + col];
    den += w * ml[2u * srow + 1u];
  }
  out[p.o_off + b * p.o_batch + i * p.o_row + head * p.vhd + col] = T(num / den);
}
`;
}
