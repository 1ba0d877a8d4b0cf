// Attention (src/kernels/attention) at every attention shape of sam2.1 hiera-t (SAM2_INFERENCE.md
// §2.2.2 block table, §2.4 memory attention, §2.7 mask decoder). bench/kernels/run.ts times each
// case as the engine runs it and once per other variant of the family that supports it
// (streaming, flash, split-KV side by side). Hiera q, k and v are strided views of one fused
// qkv projection output, as the model binds them. The fusion cases compare the model's launches
// before and after: RoPE as separate dispatches vs fused into the attention loads (memory
// attention), v_proj before vs after attention (cross-attention over the raw 64-channel memory),
// and Hiera's partition → qkv → [q-pool] → attention → unpartition vs qkv on the map + windowed
// attention.
import { attention, windowAttention, type AttentionShape } from '../../src/kernels/attention/attention.js';
import { linear } from '../../src/kernels/matmul/matmul.js';
import { rope } from '../../src/kernels/rope/rope.js';
import { getRopeTable } from '../../src/kernels/rope/rope-table.js';
import { maxPool2x2, windowPartition, windowUnpartition } from '../../src/kernels/window/window.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { atSizes, type BenchCase, type BenchInstance } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];
const HD = 96; // Hiera-t head dim, constant over the trunk
/** Self-attention over `batch` windows of `tokens` tokens whose q, k, v come from one [batch·tokens, 3·C] qkv. */
function fusedSelfAttention(gpu: Gpu, batch: number, tokens: number, heads: number, hd: number): BenchInstance {
  const c = heads * hd;
  const qkv = randomTensor(gpu, [batch * tokens, 3 * c], 11);
  const out = gpu.empty([batch, tokens, c], 'f32', 'attn-out');
  const view = (offset: number) => ({ tensor: qkv, offset, rowStride: 3 * c, batchStride: tokens * 3 * c });
  const shape: AttentionShape = { batch, heads, headDim: hd, nq: tokens, nk: tokens };
  return {
    launch: () => attention(gpu, view(0), view(c), view(2 * c), shape, out),
    release: () => releaseAll(qkv, out),
  };
}

/** Attention with separate q [batch·nq, C] and k [batch·nk, C], v [batch·nk, Cv] tensors. */
function separateAttention(gpu: Gpu, shape: AttentionShape): BenchInstance {
  const c = shape.heads * shape.headDim;
  const cv = shape.heads * (shape.vHeadDim ?? shape.headDim);
  const q = randomTensor(gpu, [shape.batch * shape.nq, c], 12);
  const k = randomTensor(gpu, [shape.batch * shape.nk, c], 13);
  const v = randomTensor(gpu, [shape.batch * shape.nk, cv], 14);
  const out = gpu.empty([shape.batch, shape.nq, cv], 'f32', 'attn-out');
  return {
    launch: () => attention(gpu, q, k, v, shape, out),
    release: () => releaseAll(q, k, v, out),
  };
}

/**
 * Memory attention with RoPE at F×F queries and `frames` memories + 64 pointer keys:
 * `separate` = rope(q), rope(k) dispatches then attention (the model before the fusion), `fused` =
 * one attention with RoPE in its loads; `vhd` 64 attends over the raw memory (v_proj after).
 */
function ropeAttention(gpu: Gpu, side: number, frames: number, vhd: number, how: 'separate' | 'fused'): BenchInstance {
  const n = side * side;
  const ptr = frames > 0 ? 64 : 0;
  const nk = frames > 0 ? frames * n + ptr : n;
  const q = randomTensor(gpu, [n, 256], 21);
  const k = randomTensor(gpu, [nk, 256], 22);
  const v = randomTensor(gpu, [nk, vhd], 23);
  const out = gpu.empty([n, vhd], 'f32', 'attn-out');
  const grid = { headDim: 256, endX: side, endY: side };
  const table = getRopeTable(gpu, grid);
  const shape: AttentionShape = { batch: 1, heads: 1, headDim: 256, vHeadDim: vhd, nq: n, nk };
  return {
    launch: () => {
      if (how === 'fused') {
        attention(gpu, q, k, v, { ...shape, rope: { table, kRepeat: frames > 1, kExcludedTail: ptr } }, out);
      } else {
        rope(gpu, q, grid, { tokens: n, heads: 1 });
        rope(gpu, k, grid, { tokens: nk, heads: 1, repeat: frames > 1, numExcludedTail: ptr });
        attention(gpu, q, k, v, shape, out);
      }
    },
    release: () => releaseAll(q, k, v, out),
  };
}

/**
 * The attention part of a Hiera block on an S×S map with window w (0 = global), d → C = heads·96:
 * `partition` = window partition of the normalised map, qkv over the (padded) windows, [q-pool],
 * attention, window unpartition (the model before the fusion); `fused` = qkv over the map, then
 * attention reading windows, pooling q and writing the map in its addressing.
 */
function hieraAttention(gpu: Gpu, side: number, window: number, pool: boolean, d: number, heads: number, how: 'partition' | 'fused'): BenchInstance {
  const c = heads * HD;
  const xn = randomTensor(gpu, [side * side, d], 31);
  const w = randomTensor(gpu, [3 * c, d], 32, -0.1, 0.1);
  const b = randomTensor(gpu, [3 * c], 33);
  const s = pool ? 2 : 1;
  const out = gpu.empty([(side / s) ** 2, c], 'f32', 'attn-out');
  return {
    launch: () => {
      if (how === 'fused') {
        const qkv = linear(gpu, xn, w, b);
        const v = (offset: number) => ({ tensor: qkv, offset, rowStride: 3 * c });
        windowAttention(gpu, v(0), v(c), v(2 * c), { heads, headDim: HD, window: { height: side, width: side, window, pool, pad: { tensor: b, kOffset: c, vOffset: 2 * c } } }, out);
        qkv.release();
        return;
      }
      const win = window || side;
      const nw = Math.ceil(side / win) ** 2;
      const windows = windowPartition(gpu, xn.reshape([side, side, d]), win);
      const qkv = linear(gpu, windows.reshape([nw * win * win, d]), w, b);
      const qw = win / s;
      const pooled = pool ? maxPool2x2(gpu, qkv, undefined, { batch: nw, height: win, width: win, channels: c, pixelStride: 3 * c }) : null;
      const o = gpu.empty([nw, qw * qw, c], 'f32', 'windows-out');
      const kv = (offset: number) => ({ tensor: qkv, offset, rowStride: 3 * c });
      attention(gpu, pooled ? { tensor: pooled } : kv(0), kv(c), kv(2 * c), { batch: nw, heads, headDim: HD, nq: qw * qw, nk: win * win }, o);
      windowUnpartition(gpu, o.reshape([nw, qw, qw, c]), side / s, side / s, out.reshape([1, side / s, side / s, c]));
      for (const t of [windows, qkv, pooled, o]) t?.release();
    },
    release: () => releaseAll(xn, w, b, out),
  };
}

const windows = (side: number, w: number) => Math.ceil(side / w) ** 2;

export const benches: BenchCase[] = [
  // Block 0: stage-1 map (S/4)², window 8 → 64 tokens per window, 1 head.
  ...atSizes(SIZES, (s) => {
    const nw = windows(s / 4, 8);
    return { name: `attention hiera-t blk0 window8 ${nw}x64tok 1x${HD}`, setup: (gpu) => fusedSelfAttention(gpu, nw, 64, 1, HD) };
  }),
  // Block 1 (q-pool): window 8, queries pooled 64 → 16, 2 heads.
  ...atSizes(SIZES, (s) => {
    const nw = windows(s / 4, 8);
    return { name: `attention hiera-t blk1 qpool ${nw}x(16q,64k) 2x${HD}`, setup: (gpu) => separateAttention(gpu, { batch: nw, heads: 2, headDim: HD, nq: 16, nk: 64 }) };
  }),
  // Stage 3 windowed blocks 4, 6, 8: (S/16)² map padded to a multiple of 14 → 196 tokens per window, 4 heads.
  ...atSizes(SIZES, (s) => {
    const nw = windows(s / 16, 14);
    return { name: `attention hiera-t stage3 window14 ${nw}x196tok 4x${HD}`, setup: (gpu) => fusedSelfAttention(gpu, nw, 196, 4, HD) };
  }),
  // Stage 3 global blocks 5, 7, 9: all (S/16)² tokens, 4 heads.
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2;
    return { name: `attention hiera-t stage3 global ${n}tok 4x${HD}`, setup: (gpu) => fusedSelfAttention(gpu, 1, n, 4, HD) };
  }),
  // Block 11 (stage 4): (S/32)² map padded to a multiple of 7 → 49 tokens per window, 8 heads.
  ...atSizes(SIZES, (s) => {
    const nw = windows(s / 32, 7);
    return { name: `attention hiera-t stage4 window7 ${nw}x49tok 8x${HD}`, setup: (gpu) => fusedSelfAttention(gpu, nw, 49, 8, HD) };
  }),
  // Memory attention self-attention: F² queries and keys, 1 head of 256.
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2;
    return { name: `attention mem-attn self ${n}x${n} 1x256`, setup: (gpu) => separateAttention(gpu, { batch: 1, heads: 1, headDim: 256, nq: n, nk: n }) };
  }),
  // Memory attention cross-attention over a full bank: 7 spatial memories of F² tokens + 64 pointer
  // tokens; v = the projected memory (256) as before, or the raw memory (64, v_proj after).
  ...[256, 64].flatMap((vhd) =>
    atSizes(SIZES, (s) => {
      const n = (s / 16) ** 2;
      const nk = 7 * n + 64;
      return { name: `attention mem-attn cross ${n}x${nk} 1x256->v${vhd}`, setup: (gpu) => separateAttention(gpu, { batch: 1, heads: 1, headDim: 256, vHeadDim: vhd, nq: n, nk }) };
    }),
  ),
  // Mask decoder token→image and image→token cross-attentions: 8 tokens, F² image tokens, 8 heads × 16.
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2;
    return { name: `attention decoder token-to-image 8x${n} 8x16`, setup: (gpu) => separateAttention(gpu, { batch: 1, heads: 8, headDim: 16, nq: 8, nk: n }) };
  }),
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2;
    return { name: `attention decoder image-to-token ${n}x8 8x16`, setup: (gpu) => separateAttention(gpu, { batch: 1, heads: 8, headDim: 16, nq: n, nk: 8 }) };
  }),

  // --- Fusions: the model's launches before and after. ---
  ...(['separate', 'fused'] as const).flatMap((how) => [
    ...atSizes(SIZES, (s) => ({ name: `attention-fusion mem-attn self+rope ${how}`, setup: (gpu) => ropeAttention(gpu, s / 16, 0, 256, how) })),
    ...atSizes(SIZES, (s) => ({ name: `attention-fusion mem-attn cross+rope v64 ${how}`, setup: (gpu) => ropeAttention(gpu, s / 16, 7, 64, how) })),
  ]),
  ...(['partition', 'fused'] as const).flatMap((how) => [
    ...atSizes(SIZES, (s) => ({ name: `attention-fusion hiera-t blk0 window8 ${how}`, setup: (gpu) => hieraAttention(gpu, s / 4, 8, false, 96, 1, how) })),
    ...atSizes(SIZES, (s) => ({ name: `attention-fusion hiera-t blk1 window8 qpool ${how}`, setup: (gpu) => hieraAttention(gpu, s / 4, 8, true, 96, 2, how) })),
    ...atSizes(SIZES, (s) => ({ name: `attention-fusion hiera-t stage3 window14 ${how}`, setup: (gpu) => hieraAttention(gpu, s / 16, 14, false, 384, 4, how) })),
    ...atSizes(SIZES, (s) => ({ name: `attention-fusion hiera-t stage4 window7 ${how}`, setup: (gpu) => hieraAttention(gpu, s / 32, 7, false, 768, 8, how) })),
  ]),
];
