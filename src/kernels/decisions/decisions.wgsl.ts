// WGSL of the SAM-heads decisions taken on the GPU (upstream sam2/modeling/sam2_base.py
// `_forward_sam_heads`, sam2/modeling/sam/mask_decoder.py `_dynamic_multimask_via_stability`,
// sam2/modeling/memory_encoder.py no-object term, SAM2VideoPredictor output resize): a `decide`
// kernel writes one flag record per object, and every later step reads its index or gate from it,
// so no decision needs the host. Every kernel has a leading object-batch dimension B.
import type { DType } from '../../runtime/tensor.js';
import { header, perElementMain } from '../wgsl.js';

/**
 * Flag record words (u32) of one object; IoUs follow the header. Keep in sync with FLAG in
 * decisions.ts. Object b's record starts at word b·p.stride of `flags` (both declared by each kernel).
 */
const FLAG_WGSL = /* wgsl */ `
fn record(b: u32) -> u32 { return b * p.stride; }
fn flag(b: u32, field: u32) -> u32 { return flags[record(b) + field]; }
fn is_present(b: u32) -> bool { return flag(b, F_PRESENT) != 0u; }
const F_PRESENT = 0u;
const F_SELECTED = 1u;
const F_FIRST = 2u;
const F_TOKEN = 3u;
const F_BEST = 4u;
const F_STABLE = 5u;
const F_AREA_I = 6u;
const F_AREA_U = 7u;
const F_STABILITY = 8u;
const F_LAMBDA = 9u;
const F_SCORE = 10u;
const F_IOU = 12u;
`;

/**
 * `count_above(lid, off, n, hi, lo)` = (#(src[off + i] > hi), #(src[off + i] > lo)) over i < n
 * with torch's strict `>`: the intersection and union areas of the stability score. Every lane of
 * the workgroup calls it with the same arguments, from uniform control flow (it holds the two
 * barriers); per-lane counts are summed with workgroup atomics. `src` names the kernel's storage
 * array of T; the kernel declares `override WG`.
 */
function countAboveFn(src: string): string {
  return /* wgsl */ `
var<workgroup> count_hi: atomic<u32>;
var<workgroup> count_lo: atomic<u32>;
fn count_above(lid: u32, off: u32, n: u32, hi: f32, lo: f32) -> vec2<u32> {
  if (lid == 0u) {
    atomicStore(&count_hi, 0u);
    atomicStore(&count_lo, 0u);
  }
  workgroupBarrier();
  var above_hi = 0u;
  var above_lo = 0u;
  for (var i = lid; i < n; i += WG) {
    let v = f32(${src}[off + i]);
    above_hi += select(0u, 1u, v > hi);
    above_lo += select(0u, 1u, v > lo);
  }
  atomicAdd(&count_hi, above_hi);
  atomicAdd(&count_lo, above_lo);
  workgroupBarrier();
  return vec2<u32>(atomicLoad(&count_hi), atomicLoad(&count_lo));
}
`;
}

/**
 * One workgroup per object b: stability counts of mask 0 (dynamic mode), argmax of the multimask
 * IoUs (first on ties), object presence (score > 0) and the pointer weight λ, then the indices the
 * gathers use. The stability ratio is divided exactly (long division, round to nearest even) so the
 * ≥ threshold decision is the one float32 torch takes.
 */
export function decideSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
${FLAG_WGSL}
struct Params { nm: u32, p: u32, mode: u32, stride: u32, hi: f32, lo: f32, thresh: f32, pred_obj: u32, mm_token: u32, soft: u32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<storage, read> masks: array<T>;
@group(0) @binding(1) var<storage, read> iou: array<T>;
@group(0) @binding(2) var<storage, read> score: array<T>;
@group(0) @binding(3) var<storage, read_write> flags: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;
override WG: u32 = 256;
${countAboveFn('masks')}
// float32(i / u), correctly rounded, for 0 < i < u < 2^24.
fn exact_ratio(i: u32, u: u32) -> f32 {
  var r = i;
  var e = 0;
  loop { if (r >= u) { break; } r = r * 2u; e = e + 1; }
  r = r - u;
  var m = 1u;
  for (var k = 0; k < 23; k++) {
    r = r * 2u;
    m = m * 2u;
    if (r >= u) { r = r - u; m = m | 1u; }
  }
  r = r * 2u;
  let half = r >= u;
  if (half) { r = r - u; }
  if (half && (r != 0u || (m & 1u) == 1u)) { m = m + 1u; }
  return ldexp(f32(m), -e - 23);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let b = wid.x;
  let dynamic = p.mode == 2u;
  // Mask 0 of object b; counted only in dynamic mode (0 and 0 otherwise).
  let areas = count_above(lid, b * p.nm * p.p, select(0u, p.p, dynamic), p.hi, p.lo);
  if (lid != 0u) { return; }
  let o = record(b);
  let ib = b * p.nm;
  var best = 0u;
  for (var j = 2u; j < p.nm; j++) {
    if (f32(iou[ib + j]) > f32(iou[ib + 1u + best])) { best = j - 1u; }
  }
  let s = f32(score[b]);
  var present = 1u;
  var lambda = 1.0;
  if (p.pred_obj != 0u) {
    present = select(0u, 1u, s > 0.0);
    lambda = select(f32(present), 1.0 / (1.0 + exp(-s)), p.soft != 0u);
  }
  let area_i = areas.x;
  let area_u = areas.y;
  var ratio = 1.0;
  if (area_u > 0u && area_i < area_u) { ratio = select(0.0, exact_ratio(area_i, area_u), area_i > 0u); }
  let stable = dynamic && ratio >= p.thresh;
  var first = 0u;
  var selected = 0u;
  var token = 0u;
  if (p.mode == 1u) {
    first = 1u;
    selected = 1u + best;
    token = select(0u, 1u + best, p.mm_token != 0u);
  } else if (dynamic) {
    first = select(1u + best, 0u, stable);
    selected = first;
  }
  flags[o + F_PRESENT] = present;
  flags[o + F_SELECTED] = selected;
  flags[o + F_FIRST] = first;
  flags[o + F_TOKEN] = token;
  flags[o + F_BEST] = best;
  flags[o + F_STABLE] = select(0u, 1u, stable);
  flags[o + F_AREA_I] = area_i;
  flags[o + F_AREA_U] = area_u;
  flags[o + F_STABILITY] = bitcast<u32>(ratio);
  flags[o + F_LAMBDA] = bitcast<u32>(lambda);
  flags[o + F_SCORE] = bitcast<u32>(s);
  flags[o + 11u] = 0u;
  for (var j = 0u; j < p.nm; j++) { flags[o + F_IOU + j] = bitcast<u32>(f32(iou[ib + j])); }
}
`;
}

/**
 * out[b, j, i] = src[b, flags[b].field + j, i] for j < m, or `fill` where gated and the object is
 * absent (the official `torch.where(is_obj_appearing, masks, NO_OBJ_SCORE)`).
 */
export function gatherSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
${FLAG_WGSL}
struct Params { n: u32, rows: u32, len: u32, m: u32, field: u32, stride: u32, gate: u32, fill: f32 }
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;
@group(0) @binding(3) var<uniform> p: Params;
override WG: u32 = 256;

fn element(i: u32) {
  let e = i % p.len;
  let j = (i / p.len) % p.m;
  let b = i / (p.len * p.m);
  let row = min(flag(b, p.field) + j, p.rows - 1u);
  let absent = p.gate != 0u && !is_present(b);
  out[i] = select(src[(b * p.rows + row) * p.len + e], T(p.fill), absent);
}
${perElementMain('p.n')}`;
}

/**
 * obj_ptr[b] = (fixed ? λ_b·ptr[b] : ptr[b]) + (1 − λ_b)·no_obj_ptr (upstream `_forward_sam_heads`
 * with pred_obj_scores); with λ ∈ {0, 1} this is an exact selection.
 */
export function objPtrBlendSource(): string {
  return /* wgsl */ `
${FLAG_WGSL}
struct Params { n: u32, c: u32, stride: u32, fixed: u32 }
@group(0) @binding(0) var<storage, read> ptr: array<f32>;
@group(0) @binding(1) var<storage, read> no_obj: array<f32>;
@group(0) @binding(2) var<storage, read> flags: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
override WG: u32 = 256;

fn element(i: u32) {
  let lambda = bitcast<f32>(flag(i / p.c, F_LAMBDA));
  let x = select(ptr[i], lambda * ptr[i], p.fixed != 0u);
  out[i] = x + (1.0 - lambda) * no_obj[i % p.c];
}
${perElementMain('p.n')}`;
}

/** In place: x[b, n, c] += no_obj_embed_spatial[c] where object b is absent (memory encoder). */
export function noObjectTermSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
${FLAG_WGSL}
struct Params { n: u32, c: u32, per_obj: u32, stride: u32 }
@group(0) @binding(0) var<storage, read_write> x: array<T>;
@group(0) @binding(1) var<storage, read> embed: array<T>;
@group(0) @binding(2) var<storage, read> flags: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;
override WG: u32 = 256;

fn element(i: u32) {
  if (is_present(i / p.per_obj)) { return; }
  x[i] = T(f32(x[i]) + f32(embed[i % p.c]));
}
${perElementMain('p.n')}`;
}

/**
 * The output masks of a slice: low-res logits [B, IH, IW] → bilinear (align_corners=False, the
 * host's float32 coordinates) to [B, OH, OW] → optional non-overlap (a pixel belongs only to the
 * object with the highest logit, first on ties) → logit > 0, four pixels packed per u32 word.
 */
export function maskOutputSource(): string {
  return /* wgsl */ `
struct Params { words: u32, b: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32, sy: f32, sx: f32, non_overlap: u32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

struct Tap { i0: u32, i1: u32, l: f32 }
fn tap(scale: f32, d: u32, in_size: u32) -> Tap {
  let f = max(scale * (f32(d) + 0.5) - 0.5, 0.0);
  var t: Tap;
  t.i0 = min(u32(floor(f)), in_size - 1u);
  t.i1 = min(t.i0 + 1u, in_size - 1u);
  t.l = f - f32(t.i0);
  return t;
}

fn logit_at(b: u32, ty: Tap, tx: Tap) -> f32 {
  let base = b * p.in_h * p.in_w;
  let a = logits[base + ty.i0 * p.in_w + tx.i0];
  let c = logits[base + ty.i0 * p.in_w + tx.i1];
  let d = logits[base + ty.i1 * p.in_w + tx.i0];
  let e = logits[base + ty.i1 * p.in_w + tx.i1];
  let hy = 1.0 - ty.l;
  let hx = 1.0 - tx.l;
  return hy * (hx * a + tx.l * c) + ty.l * (hx * d + tx.l * e);
}

// One output word w: four pixels.
fn element(w: u32) {
  let per_obj = p.out_h * p.out_w;
  let total = p.b * per_obj;
  var word = 0u;
  for (var k = 0u; k < 4u; k++) {
    let i = 4u * w + k;
    if (i >= total) { break; }
    let b = i / per_obj;
    let pix = i % per_obj;
    let ty = tap(p.sy, pix / p.out_w, p.in_h);
    let tx = tap(p.sx, pix % p.out_w, p.in_w);
    let v = logit_at(b, ty, tx);
    var on = v > 0.0;
    if (on && p.non_overlap != 0u && p.b > 1u) {
      // Kept only by the first object with the highest logit.
      for (var o = 0u; o < p.b; o++) {
        if (o == b) { continue; }
        let u = logit_at(o, ty, tx);
        if (u > v || (u == v && o < b)) { on = false; break; }
      }
    }
    word = word | (select(0u, 1u, on) << (8u * k));
  }
  out[w] = word;
}
${perElementMain('p.words')}`;
}
