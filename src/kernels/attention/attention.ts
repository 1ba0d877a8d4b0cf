// Launchers for scaled-dot-product attention over strided token views (see token-view.ts):
// out[b, i, h·vhd + c] = Σ_j softmax_j(scale · q̃[b,i,h]·k̃[b,j,h]) · v[b, j, h·vhd + c]
// (F.scaled_dot_product_attention as called by hieradet.py MultiScaleAttention and
// sam/transformer.py Attention / RoPEAttention after _separate_heads), optionally with RoPE fused
// into the q/k loads and Hiera's window partition / q-pool / unpartition fused into the addressing.
// A launcher validates its operands into an AttentionSpec; `gpu.runOp(ATTENTION_FAMILY, spec)` runs
// the variant the adapter's selector picks (variants.ts).
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { check } from '../program.js';
import type { RopeTable } from '../rope/rope-table.js';
import { MAX_HEAD_DIM, type AttentionSpec, type ResolvedRope, type ResolvedWindow } from './attention-spec.js';
import { isTokenView, resolveView, type ResolvedView, type TokenView } from './token-view.js';
import { ATTENTION_FAMILY } from './variants.js';

export type { AttentionSpec } from './attention-spec.js';

/** RoPE applied to q and k as they are loaded (RoPEAttention: one table per query grid). */
export interface AttentionRope {
  /** From getRopeTable(gpu, { headDim, endX, endY, theta }); its headDim must be the attention's. */
  table: RopeTable;
  /** Rotate the queries (default true); nq must be one grid. */
  q?: boolean;
  /** Rotate the keys (default true). */
  k?: boolean;
  /** Keys repeat the grid once per memory frame (rope_k_repeat). */
  kRepeat?: boolean;
  /** The last n keys are not rotated (object pointers, num_k_exclude_rope). */
  kExcludedTail?: number;
}

/**
 * Hiera's windowed attention on an un-windowed map: the q, k, v views hold `height × width` tokens
 * (token y·width + x at offset + t·rowStride; batchStride is not used), out receives the
 * (pooled) map, token y·outW + x. Batch, nq and nk follow from the window (see ResolvedWindow).
 */
export interface AttentionWindow {
  height: number;
  width: number;
  /** Window side; 0 = global attention (one window over the whole map). */
  window: number;
  /** q max-pooled 2×2 inside each window (q_stride (2, 2)); the output map is halved. */
  pool?: boolean;
  /**
   * The padding token (k at kOffset, v at vOffset, heads·headDim channels each), needed when the
   * map is not a whole number of windows. Hiera: the qkv bias, kOffset = C, vOffset = 2C.
   */
  pad?: { tensor: GpuTensor; kOffset: number; vOffset: number };
}

export interface AttentionShape {
  /** Batch items (ignored with a window: the windows are the batch). */
  batch: number;
  heads: number;
  /** Channels per head of q and k. */
  headDim: number;
  /** Channels per head of v and out; default headDim. */
  vHeadDim?: number;
  /** Query / key tokens per batch item (ignored with a window). */
  nq: number;
  nk: number;
  /** Softmax scale; default 1/sqrt(headDim) (PyTorch SDPA). */
  scale?: number;
  rope?: AttentionRope;
  window?: AttentionWindow;
}

/** The shape of a windowed launch: batch, nq, nk filled in from the window. */
export type WindowedShape = Omit<AttentionShape, 'batch' | 'nq' | 'nk' | 'window'> & { window: AttentionWindow };

const NAME = 'attention';

function positive(what: string, x: number): void {
  check(Number.isInteger(x) && x >= 1, NAME, `${what} must be a positive integer, got ${x}`);
}

function resolveWindow(w: AttentionWindow, c: number, cv: number, dtype: string): { win: ResolvedWindow; batch: number; nq: number; nk: number } {
  positive('window height', w.height);
  positive('window width', w.width);
  check(Number.isInteger(w.window) && w.window >= 0, NAME, `window ${w.window} must be 0 (global) or a positive integer`);
  const [winH, winW] = w.window > 0 ? [w.window, w.window] : [w.height, w.width];
  // The kernels divide by the window width in f32 (exact up to 1024 per side).
  check(winH <= 1024 && winW <= 1024, NAME, `a ${winH}×${winW} window exceeds 1024 tokens per side`);
  const nwy = Math.ceil(w.height / winH);
  const nwx = Math.ceil(w.width / winW);
  const pool = !!w.pool;
  if (pool) {
    check(w.height % 2 === 0 && w.width % 2 === 0, NAME, `q-pooling needs an even map, got ${w.height}×${w.width}`);
    check(winH % 2 === 0 && winW % 2 === 0, NAME, `q-pooling needs an even window, got ${winH}×${winW}`);
  }
  const s = pool ? 2 : 1;
  const padded = w.height % winH !== 0 || w.width % winW !== 0;
  const pad = w.pad;
  check(!padded || pad, NAME, `a ${w.height}×${w.width} map is not a whole number of ${winH}×${winW} windows: give the padding token (window.pad)`);
  if (pad) {
    check(pad.tensor.dtype === dtype, NAME, `window.pad is ${pad.tensor.dtype} but q is ${dtype}`);
    for (const [what, off, n] of [['kOffset', pad.kOffset, c], ['vOffset', pad.vOffset, cv]] as const) {
      check(Number.isInteger(off) && off >= 0 && off + n <= pad.tensor.size, NAME, `window.pad.${what} ${off} + ${n} channels exceeds pad ${shapeStr(pad.tensor.shape)}`);
    }
  }
  const win: ResolvedWindow = { height: w.height, width: w.width, winH, winW, nwx, nwy, pool, outH: w.height / s, outW: w.width / s, pad };
  return { win, batch: nwy * nwx, nq: (winH / s) * (winW / s), nk: winH * winW };
}

function resolveRope(r: AttentionRope, hd: number, nq: number, nk: number): ResolvedRope {
  const { table } = r;
  check(hd % 4 === 0, NAME, `fused RoPE needs a head dim that is a multiple of 4, got ${hd}`);
  check(table.headDim === hd, NAME, `the RoPE table is for head dim ${table.headDim}, attention has ${hd}`);
  check(table.tensor.dtype === 'f32', NAME, 'the RoPE table must be f32');
  const grid = table.endX * table.endY;
  const qRot = r.q ?? true;
  const kRot = r.k ?? true;
  if (qRot) check(nq === grid, NAME, `${nq} queries do not match the ${table.endX}×${table.endY} RoPE grid`);
  const excluded = r.kExcludedTail ?? 0;
  check(Number.isInteger(excluded) && excluded >= 0 && excluded <= nk, NAME, `kExcludedTail ${excluded} must be in [0, ${nk}]`);
  const rotated = nk - excluded;
  if (kRot && r.kRepeat) check(rotated % grid === 0, NAME, `${rotated} rotated keys are not a whole number of ${table.endX}×${table.endY} grids`);
  if (kRot && !r.kRepeat) check(rotated === grid, NAME, `${rotated} rotated keys do not match the ${table.endX}×${table.endY} grid (set kRepeat for several frames)`);
  return { table, grid, qRotated: qRot ? nq : 0, kRotated: kRot ? rotated : 0 };
}

/**
 * Checks the operands of an attention launch and resolves them into the spec every variant reads.
 * q: batch × nq tokens, k and v: batch × nk tokens; head h of a token occupies channels
 * [h·hd, (h+1)·hd) of q and k and [h·vhd, (h+1)·vhd) of v and out. q, k and v may be views of one
 * fused buffer; out must be another buffer. Plain tensors are read as contiguous [batch, tokens, channels].
 */
export function attentionSpec(
  q: GpuTensor | TokenView,
  k: GpuTensor | TokenView,
  v: GpuTensor | TokenView,
  out: GpuTensor | TokenView,
  s: AttentionShape,
): AttentionSpec {
  const dtype = (isTokenView(q) ? q.tensor : q).dtype;
  check(dtype === 'f32' || dtype === 'f16', NAME, `unsupported dtype ${dtype}`);
  const hd = s.headDim;
  const vhd = s.vHeadDim ?? hd;
  positive('heads', s.heads);
  positive('headDim', hd);
  positive('vHeadDim', vhd);
  check(hd <= MAX_HEAD_DIM, NAME, `headDim ${hd} exceeds the largest supported head dim ${MAX_HEAD_DIM}`);
  check(vhd <= MAX_HEAD_DIM, NAME, `vHeadDim ${vhd} exceeds the largest supported head dim ${MAX_HEAD_DIM}`);
  const scale = s.scale ?? 1 / Math.sqrt(hd);
  check(Number.isFinite(scale), NAME, `scale ${scale} is not finite`);
  const c = s.heads * hd;
  const cv = s.heads * vhd;
  let batch = s.batch;
  let nq = s.nq;
  let nk = s.nk;
  let window: ResolvedWindow | undefined;
  let qv: ResolvedView, kv: ResolvedView, vv: ResolvedView, ov: ResolvedView;
  if (s.window) {
    check(!s.rope, NAME, 'RoPE and window addressing cannot be combined (no SAM 2 layer uses both)');
    const r = resolveWindow(s.window, c, cv, dtype);
    ({ win: window, batch, nq, nk } = r);
    const tokens = window.height * window.width;
    qv = resolveView(q, 1, tokens, c, NAME, 'q');
    kv = resolveView(k, 1, tokens, c, NAME, 'k');
    vv = resolveView(v, 1, tokens, cv, NAME, 'v');
    ov = resolveView(out, 1, window.outH * window.outW, cv, NAME, 'out');
  } else {
    positive('batch', batch);
    positive('nq', nq);
    positive('nk', nk);
    qv = resolveView(q, batch, nq, c, NAME, 'q');
    kv = resolveView(k, batch, nk, c, NAME, 'k');
    vv = resolveView(v, batch, nk, cv, NAME, 'v');
    ov = resolveView(out, batch, nq, cv, NAME, 'out');
  }
  for (const [what, t] of [['k', kv], ['v', vv], ['out', ov]] as const) check(t.tensor.dtype === dtype, NAME, `${what} is ${t.tensor.dtype} but q is ${dtype}`);
  const rope = s.rope ? resolveRope(s.rope, hd, nq, nk) : undefined;
  for (const t of [qv.tensor, kv.tensor, vv.tensor, rope?.table.tensor, window?.pad?.tensor]) {
    check(!t || t.buffer !== ov.tensor.buffer, NAME, 'out must not share a buffer with q, k, v, the RoPE table or the padding token (a read-write binding cannot alias a read one)');
  }
  return { dtype, q: qv, k: kv, v: vv, out: ov, batch, heads: s.heads, headDim: hd, vHeadDim: vhd, nq, nk, scale, rope, window };
}

/**
 * Runs attention; allocates out = [batch, nq, heads·vHeadDim] (with a window: [outH·outW,
 * heads·vHeadDim]) when not given. Returns out's tensor.
 */
export function attention(
  gpu: Gpu,
  q: GpuTensor | TokenView,
  k: GpuTensor | TokenView,
  v: GpuTensor | TokenView,
  s: AttentionShape,
  out?: GpuTensor | TokenView,
): GpuTensor {
  const dtype = (isTokenView(q) ? q.tensor : q).dtype;
  const cv = s.heads * (s.vHeadDim ?? s.headDim);
  const w = s.window;
  const f = w?.pool ? 2 : 1;
  const o = out ?? gpu.empty(w ? [Math.floor(w.height / f) * Math.floor(w.width / f), cv] : [s.batch, s.nq, cv], dtype, 'attention');
  let spec: AttentionSpec;
  try {
    spec = attentionSpec(q, k, v, o, s);
  } catch (e) {
    if (!out) (o as GpuTensor).release();
    throw e;
  }
  gpu.runOp(ATTENTION_FAMILY, spec);
  return isTokenView(o) ? o.tensor : o;
}

/** Windowed attention (see AttentionWindow): batch, nq and nk come from the window. */
export function windowAttention(
  gpu: Gpu,
  q: GpuTensor | TokenView,
  k: GpuTensor | TokenView,
  v: GpuTensor | TokenView,
  s: WindowedShape,
  out?: GpuTensor | TokenView,
): GpuTensor {
  return attention(gpu, q, k, v, { ...s, batch: 1, nq: 1, nk: 1 }, out);
}
