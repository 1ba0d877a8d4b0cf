// One attention launch as every variant of the family sees it (built and checked by
// validateAttention in attention.ts):
//   out[b, i, h·vhd + c] = Σ_j softmax_j(scale · q̃[b,i,h]·k̃[b,j,h]) · v[b, j, h·vhd + c]
// where q̃ and k̃ are q and k after the optional fused RoPE, and with a window the batch items are
// the windows of a feature map, read and written straight from/to the map (see AttentionWindow).
import type { DType, GpuTensor } from '../../runtime/tensor.js';
import type { RopeTable } from '../rope/rope-table.js';
import type { ResolvedView } from './token-view.js';

/**
 * Axial RoPE applied while q and k are loaded (RoPEAttention in sam2/modeling/sam/transformer.py):
 * query i uses table position i mod grid; key j < kRotated uses j mod grid (rope_k_repeat: every
 * memory frame reuses the query grid); keys from kRotated on (object pointers) are not rotated.
 */
export interface ResolvedRope {
  /** [grid, headDim/2, 2] (cos, sin) f32, from getRopeTable. */
  table: RopeTable;
  /** Tokens of one grid (endX·endY). */
  grid: number;
  /** Queries rotated: nq, or 0 for none. */
  qRotated: number;
  /** Keys rotated: [0, kRotated). */
  kRotated: number;
}

/**
 * Hiera's windowed attention read and written in place (window_partition / window_unpartition of
 * sam2/modeling/backbones/utils.py and the q-pool of hieradet.py folded into the addressing): the
 * q, k and v views hold the un-windowed map, token y·width + x at `offset + (y·width + x)·rowStride`;
 * batch item b is window (b / nwx, b mod nwx) of winH × winW tokens. Keys of a window that fall in
 * the bottom/right padding read `pad` (Hiera pads the normalised map with zeros before qkv, so a
 * padded token's k and v are the qkv bias); the kernels count them in closed form. Queries are
 * the window's tokens, or with `pool` the 2×2 max of them (nq = winH/2 · winW/2); output row i of
 * window b goes to map position (by·qh + i / qw, bx·qw + i mod qw) of the outH × outW output map
 * (`out` view: token y·outW + x), and rows in the padding are not written.
 */
export interface ResolvedWindow {
  height: number;
  width: number;
  winH: number;
  winW: number;
  nwx: number;
  nwy: number;
  pool: boolean;
  outH: number;
  outW: number;
  /** The padding token's channels: its k at kOffset + h·hd, its v at vOffset + h·vhd. */
  pad?: { tensor: GpuTensor; kOffset: number; vOffset: number };
}

export interface AttentionSpec {
  dtype: DType;
  q: ResolvedView;
  k: ResolvedView;
  v: ResolvedView;
  out: ResolvedView;
  /** Batch items (windows with `window`). */
  batch: number;
  heads: number;
  /** Channels per head of q and k. */
  headDim: number;
  /** Channels per head of v and out (memory attention attends over the raw 64-channel memory). */
  vHeadDim: number;
  /** Queries and keys per batch item (with a window: the most a window has). */
  nq: number;
  nk: number;
  scale: number;
  rope?: ResolvedRope;
  window?: ResolvedWindow;
}

/** Tokens-per-head tier of the value/output accumulator a kernel is compiled for. */
export const HEAD_DIM_TIERS = [32, 64, 128, 256] as const;
export type HeadDimTier = (typeof HEAD_DIM_TIERS)[number];
export const MAX_HEAD_DIM = HEAD_DIM_TIERS[HEAD_DIM_TIERS.length - 1];

export function headDimTier(headDim: number, smallest: HeadDimTier = 32): HeadDimTier {
  const t = HEAD_DIM_TIERS.find((x) => x >= smallest && headDim <= x);
  if (t === undefined) throw new Error(`head dim ${headDim} exceeds ${MAX_HEAD_DIM}`);
  return t;
}

/** How q, k and v are addressed: plain views, views with fused RoPE, or a Hiera window (± q-pool). */
export type AddressMode = 'plain' | 'rope' | 'window' | 'window-pool';

export function addressMode(s: AttentionSpec): AddressMode {
  if (s.window) return s.window.pool ? 'window-pool' : 'window';
  return s.rope ? 'rope' : 'plain';
}

/**
 * k and v as vec4 loads when every 4-channel chunk is 16-byte aligned (all SAM 2 shapes), else
 * scalar loads (odd head dims, unaligned views).
 */
export type KvAccess = 'vec4' | 'scalar';

export function kvAccess(s: AttentionSpec): KvAccess {
  const pad = s.window?.pad;
  const aligned = [s.headDim, s.vHeadDim, s.k.offset, s.k.rowStride, s.k.batchStride, s.v.offset, s.v.rowStride, s.v.batchStride].every((x) => x % 4 === 0);
  return aligned && (!pad || (pad.kOffset % 4 === 0 && pad.vOffset % 4 === 0)) ? 'vec4' : 'scalar';
}

/** Element bytes of the spec's tensors. */
export function elemBytes(s: AttentionSpec): number {
  return s.dtype === 'f16' ? 2 : 4;
}

/** Floating-point work of the launch (2 flops per multiply-add of Q·Kᵀ and P·V). */
export function attentionFlops(s: AttentionSpec): number {
  return 2 * s.batch * s.heads * s.nq * s.nk * (s.headDim + s.vHeadDim);
}
