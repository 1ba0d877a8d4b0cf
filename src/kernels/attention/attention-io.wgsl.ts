// What every attention kernel shares: the uniform struct, the binding declarations, and how q, k,
// v, out are addressed and loaded per address mode (attention-spec.ts AddressMode). A kernel body
// only calls the functions below, so one body serves plain views, fused RoPE and Hiera windows:
//
//   batch_init(b)                      called once per invocation before the others (windows:
//                                      per-window constants, so the per-key math has no division)
//   q_row(b, i, head)        -> QRow   addresses of query i of batch item b (head's channel 0)
//   q_load4(row, o, n)       -> vec4   channels o..o+n-1 (n ≤ 4, rest 0) of that query, rotated
//                                      (RoPE) or 2×2 max-pooled (q-pool) as the mode says
//   kv_count(b)              -> u32    keys of batch item b read from k/v (a window's in-map keys)
//   k_addr(b, j), v_addr(b, j)         element of key j's channel 0 (add the head's offset)
//   k_rope_row(j)            -> u32    key j's RoPE table row (computed once per key, not per chunk)
//   k_rope(x, row, o)        -> vec4   key chunk x (channels o..o+3 of a key) after RoPE
//   pad_count(b)                       keys of b that are the padding token (windows only)
//   pad_k4(o, n), pad_v4(o, n)         the padding token's k / v channels
//   o_valid(b, i), o_addr(b, i)        whether / where output row i of b is written
import type { AddressMode, KvAccess } from './attention-spec.js';

export const PARAMS = /* wgsl */ `
struct Params {
  nq: u32, nk: u32, hd: u32, vhd: u32,
  scale: f32, batch: u32, heads: u32, n_split: u32, key_chunk: u32,
  q_off: u32, q_row: u32, q_batch: u32,
  k_off: u32, k_row: u32, k_batch: u32,
  v_off: u32, v_row: u32, v_batch: u32,
  o_off: u32, o_row: u32, o_batch: u32,
  rope_grid: u32, q_rot: u32, k_rot: u32,
  map_h: u32, map_w: u32, win_h: u32, win_w: u32, n_wx: u32,
  out_h: u32, out_w: u32, pad_k: u32, pad_v: u32,
}
const NEG_BIG: f32 = -3.0e38;
const NO_SPLIT: u32 = 0xffffffffu; // key_chunk of a launch that is not split
`;

export interface BindingDecl {
  name: string;
  type: string;
  access: 'read' | 'read_write';
}

/** `@group(0) @binding(i) var<storage, access> name: type;` per entry in order, then the uniform `p`. */
export function declareBindings(list: readonly BindingDecl[]): string {
  const lines = list.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name}: ${b.type};`);
  lines.push(`@group(0) @binding(${list.length}) var<uniform> p: Params;`);
  return lines.join('\n');
}

/** Element type names of q/k/v bindings per access. */
export function kvType(access: KvAccess): string {
  return access === 'vec4' ? 'array<vec4<T>>' : 'array<T>';
}

/** Query loads: scalar (any alignment), masked past n channels. */
export const Q_LOADS = /* wgsl */ `
fn q4(i: u32, n: u32) -> vec4<f32> {
  return vec4<f32>(f32(q[i]), select(0.0, f32(q[i + 1u]), n > 1u), select(0.0, f32(q[i + 2u]), n > 2u),
                   select(0.0, f32(q[i + 3u]), n > 3u));
}
`;

const KV_VEC4 = /* wgsl */ `
fn k4(i: u32) -> vec4<f32> { return vec4<f32>(k[i / 4u]); }
fn v4(i: u32) -> vec4<f32> { return vec4<f32>(v[i / 4u]); }
fn mask_tail(x: vec4<f32>, n: u32) -> vec4<f32> {
  return select(vec4<f32>(0.0), x, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n));
}
fn k4_tail(i: u32, n: u32) -> vec4<f32> { return mask_tail(k4(i), n); }
fn v4_tail(i: u32, n: u32) -> vec4<f32> { return mask_tail(v4(i), n); }
`;

const KV_SCALAR = /* wgsl */ `
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

export const KV_LOADS: Record<KvAccess, string> = { vec4: KV_VEC4, scalar: KV_SCALAR };

// Plain strided views (also the RoPE mode): batch item b advances each view by its batch stride.
const ADDR_LINEAR = /* wgsl */ `
alias QRow = vec4<u32>; // (address, RoPE table row, -, -)
fn batch_init(b: u32) {}
fn q_row(b: u32, i: u32, head: u32) -> QRow { return vec4<u32>(p.q_off + b * p.q_batch + i * p.q_row + head, q_rope_row(i), 0u, 0u); }
fn kv_count(b: u32) -> u32 { return p.nk; }
fn k_addr(b: u32, j: u32) -> u32 { return p.k_off + b * p.k_batch + j * p.k_row; }
fn v_addr(b: u32, j: u32) -> u32 { return p.v_off + b * p.v_batch + j * p.v_row; }
fn o_valid(b: u32, i: u32) -> bool { return i < p.nq; }
fn o_addr(b: u32, i: u32) -> u32 { return p.o_off + b * p.o_batch + i * p.o_row; }
fn pad_count(b: u32) -> u32 { return 0u; }
fn pad_k4(o: u32, n: u32) -> vec4<f32> { return vec4<f32>(0.0); }
fn pad_v4(o: u32, n: u32) -> vec4<f32> { return vec4<f32>(0.0); }
`;

// Hiera windows read straight from the map (Q_STRIDE: 1, or 2 with q-pool). Keys are the window's
// in-map tokens, row-major over its valid vh × vw part; the padded rest is pad_count() copies of the
// padding token. A query outside the map reads the window's first token (its row is not written).
const ADDR_WINDOW = /* wgsl */ `
alias QRow = vec4<u32>; // addresses of the 1 (or 4 pooled) tokens
struct Win { y0: u32, x0: u32, vw: u32, inv_vw: f32, count: u32 }
var<private> win: Win;
fn batch_init(b: u32) {
  let y0 = (b / p.n_wx) * p.win_h;
  let x0 = (b % p.n_wx) * p.win_w;
  let vw = min(p.win_w, p.map_w - x0);
  win = Win(y0, x0, vw, 1.0 / f32(vw), min(p.win_h, p.map_h - y0) * vw);
}
fn win_y0(b: u32) -> u32 { return win.y0; }
fn win_x0(b: u32) -> u32 { return win.x0; }
fn kv_count(b: u32) -> u32 { return win.count; }
fn pad_count(b: u32) -> u32 { return p.win_h * p.win_w - win.count; }
// j / vw through f32: exact for the window sizes allowed (≤ 1024 per side; the error of
// (j + 0.5)·(1/vw) stays far below the 0.5/vw margin to the next integer), and vectorisable on CPU
// adapters, where a u32 division per key costs more than the key's dot product.
fn key_token(b: u32, j: u32) -> u32 {
  let ty = u32((f32(j) + 0.5) * win.inv_vw);
  return (win.y0 + ty) * p.map_w + win.x0 + (j - ty * win.vw);
}
fn k_addr(b: u32, j: u32) -> u32 { return p.k_off + key_token(b, j) * p.k_row; }
fn v_addr(b: u32, j: u32) -> u32 { return p.v_off + key_token(b, j) * p.v_row; }
fn q_row(b: u32, i: u32, head: u32) -> QRow {
  let qw = p.win_w / Q_STRIDE;
  var y = win_y0(b) + (i / qw) * Q_STRIDE;
  var x = win_x0(b) + (i % qw) * Q_STRIDE;
  if (y >= p.map_h || x >= p.map_w) { y = win_y0(b); x = win_x0(b); }
  let t = p.q_off + (y * p.map_w + x) * p.q_row + head;
  // Pooled: the 2×2 cell (x, y)..(x+1, y+1); unpooled rows use .x only.
  let dx = select(0u, p.q_row, Q_STRIDE == 2u);
  let dy = select(0u, p.map_w * p.q_row, Q_STRIDE == 2u);
  return vec4<u32>(t, t + dx, t + dy, t + dy + dx);
}
fn out_pos(b: u32, i: u32) -> vec2<u32> {
  let qw = p.win_w / Q_STRIDE;
  let qh = p.win_h / Q_STRIDE;
  return vec2<u32>((b % p.n_wx) * qw + i % qw, (b / p.n_wx) * qh + i / qw);
}
fn o_valid(b: u32, i: u32) -> bool {
  let xy = out_pos(b, i);
  return i < p.nq && xy.x < p.out_w && xy.y < p.out_h;
}
fn o_addr(b: u32, i: u32) -> u32 {
  let xy = out_pos(b, i);
  return p.o_off + (xy.y * p.out_w + xy.x) * p.o_row;
}
fn pad_k4(o: u32, n: u32) -> vec4<f32> {
  let i = p.pad_k + o;
  return vec4<f32>(f32(pad[i]), select(0.0, f32(pad[i + 1u]), n > 1u), select(0.0, f32(pad[i + 2u]), n > 2u),
                   select(0.0, f32(pad[i + 3u]), n > 3u));
}
fn pad_v4(o: u32, n: u32) -> vec4<f32> {
  let i = p.pad_v + o;
  return vec4<f32>(f32(pad[i]), select(0.0, f32(pad[i + 1u]), n > 1u), select(0.0, f32(pad[i + 2u]), n > 2u),
                   select(0.0, f32(pad[i + 3u]), n > 3u));
}
`;

const Q_STRIDE_1 = /* wgsl */ `const Q_STRIDE: u32 = 1u;`;
const Q_STRIDE_2 = /* wgsl */ `const Q_STRIDE: u32 = 2u;`;

const Q_PLAIN = /* wgsl */ `
fn q_load4(r: QRow, o: u32, n: u32) -> vec4<f32> { return q4(r.x + o, n); }
fn q_rope_row(i: u32) -> u32 { return 0u; }
fn k_rope_row(j: u32) -> u32 { return 0u; }
fn k_rope(x: vec4<f32>, row: u32, o: u32) -> vec4<f32> { return x; }
`;

const Q_POOL = /* wgsl */ `
fn q_load4(r: QRow, o: u32, n: u32) -> vec4<f32> {
  return max(max(q4(r.x + o, n), q4(r.y + o, n)), max(q4(r.z + o, n), q4(r.w + o, n)));
}
fn k_rope_row(j: u32) -> u32 { return 0u; }
fn k_rope(x: vec4<f32>, row: u32, o: u32) -> vec4<f32> { return x; }
`;

// Channel pairs (2m, 2m+1) of a head times (cos, sin) of the token's grid position; the table is
// [grid, hd/2] (cos, sin) pairs, read as vec4 = two pairs, so o (head-relative) is a multiple of 4.
const Q_ROPE = /* wgsl */ `
const NO_ROPE: u32 = 0xffffffffu;
fn rope_row(pos: u32, rotated: u32) -> u32 { return select(NO_ROPE, (pos % p.rope_grid) * (p.hd / 4u), pos < rotated); }
fn rotate(x: vec4<f32>, row: u32, o: u32) -> vec4<f32> {
  if (row == NO_ROPE) { return x; }
  let cs = rope_table[row + o / 4u];
  return vec4<f32>(x.x * cs.x - x.y * cs.y, x.x * cs.y + x.y * cs.x, x.z * cs.z - x.w * cs.w, x.z * cs.w + x.w * cs.z);
}
fn q_load4(r: QRow, o: u32, n: u32) -> vec4<f32> { return rotate(q4(r.x + o, n), r.y, o); }
fn q_rope_row(i: u32) -> u32 { return rope_row(i, p.q_rot); }
fn k_rope_row(j: u32) -> u32 { return rope_row(j, p.k_rot); }
fn k_rope(x: vec4<f32>, row: u32, o: u32) -> vec4<f32> { return rotate(x, row, o); }
`;

/** The addressing functions of a mode (see the file header). */
export const ADDRESSING: Record<AddressMode, string> = {
  plain: ADDR_LINEAR + Q_PLAIN,
  rope: ADDR_LINEAR + Q_ROPE,
  window: Q_STRIDE_1 + ADDR_WINDOW + Q_PLAIN,
  'window-pool': Q_STRIDE_2 + ADDR_WINDOW + Q_POOL,
};

/** The extra binding a mode reads after q, k, v and the outputs (RoPE table or padding token), if any. */
export function extraBinding(mode: AddressMode): BindingDecl | undefined {
  if (mode === 'rope') return { name: 'rope_table', type: 'array<vec4<f32>>', access: 'read' };
  if (mode === 'window' || mode === 'window-pool') return { name: 'pad', type: 'array<T>', access: 'read' };
  return undefined;
}
