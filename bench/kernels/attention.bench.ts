// Attention (src/kernels/attention) at every attention shape of sam2.1 hiera-t (SAM2_INFERENCE.md
// §2.2.2 block table, §2.4 memory attention, §2.7 mask decoder). Hiera q, k and v are strided views
// of one fused qkv projection output, as the model will bind them.
import { attention, type AttentionShape } from '../../src/kernels/attention/attention.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];
const HD = 96; // Hiera-t head dim, constant over the trunk

/** Self-attention over `batch` windows of `tokens` tokens whose q, k, v come from one [batch·tokens, 3·C] qkv. */
function fusedSelfAttention(gpu: Gpu, batch: number, tokens: number, heads: number, hd: number) {
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

/** Attention with separate q [batch·nq, C] and k, v [batch·nk, C] tensors. */
function separateAttention(gpu: Gpu, shape: AttentionShape) {
  const c = shape.heads * shape.headDim;
  const q = randomTensor(gpu, [shape.batch * shape.nq, c], 12);
  const k = randomTensor(gpu, [shape.batch * shape.nk, c], 13);
  const v = randomTensor(gpu, [shape.batch * shape.nk, c], 14);
  const out = gpu.empty([shape.batch, shape.nq, c], 'f32', 'attn-out');
  return {
    launch: () => attention(gpu, q, k, v, shape, out),
    release: () => releaseAll(q, k, v, out),
  };
}

const windows = (side: number, w: number) => Math.ceil(side / w) ** 2;

export const benches: BenchCase[] = [
  // Block 0: stage-1 map (S/4)², window 8 → 64 tokens per window, 1 head.
  ...atSizes(SIZES, (s) => {
    const nw = windows(s / 4, 8);
    return {
      name: `attention hiera-t blk0 window8 ${nw}x64tok 1x${HD}`,
      setup: (gpu) => fusedSelfAttention(gpu, nw, 64, 1, HD),
    };
  }),
  // Block 1 (q-pool): window 8, queries pooled 64 → 16, 2 heads.
  ...atSizes(SIZES, (s) => {
    const nw = windows(s / 4, 8);
    return {
      name: `attention hiera-t blk1 qpool ${nw}x(16q,64k) 2x${HD}`,
      setup: (gpu) => separateAttention(gpu, { batch: nw, heads: 2, headDim: HD, nq: 16, nk: 64 }),
    };
  }),
  // Stage 3 windowed blocks 4, 6, 8: (S/16)² map padded to a multiple of 14 → 196 tokens per window, 4 heads.
  ...atSizes(SIZES, (s) => {
    const nw = windows(s / 16, 14);
    return {
      name: `attention hiera-t stage3 window14 ${nw}x196tok 4x${HD}`,
      setup: (gpu) => fusedSelfAttention(gpu, nw, 196, 4, HD),
    };
  }),
  // Stage 3 global blocks 5, 7, 9: all (S/16)² tokens, 4 heads.
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2;
    return {
      name: `attention hiera-t stage3 global ${n}tok 4x${HD}`,
      setup: (gpu) => fusedSelfAttention(gpu, 1, n, 4, HD),
    };
  }),
  // Block 11 (stage 4): (S/32)² map padded to a multiple of 7 → 49 tokens per window, 8 heads.
  ...atSizes(SIZES, (s) => {
    const nw = windows(s / 32, 7);
    return {
      name: `attention hiera-t stage4 window7 ${nw}x49tok 8x${HD}`,
      setup: (gpu) => fusedSelfAttention(gpu, nw, 49, 8, HD),
    };
  }),
  // Memory attention self-attention: F² queries and keys, 1 head of 256.
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2;
    return {
      name: `attention mem-attn self ${n}x${n} 1x256`,
      setup: (gpu) => separateAttention(gpu, { batch: 1, heads: 1, headDim: 256, nq: n, nk: n }),
    };
  }),
  // Memory attention cross-attention over a full bank: 7 spatial memories of F² tokens + 64 pointer tokens.
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2;
    const nk = 7 * n + 64;
    return {
      name: `attention mem-attn cross ${n}x${nk} 1x256`,
      setup: (gpu) => separateAttention(gpu, { batch: 1, heads: 1, headDim: 256, nq: n, nk }),
    };
  }),
  // Mask decoder token→image and image→token cross-attentions: 8 tokens, F² image tokens, 8 heads × 16.
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2;
    return {
      name: `attention decoder token-to-image 8x${n} 8x16`,
      setup: (gpu) => separateAttention(gpu, { batch: 1, heads: 8, headDim: 16, nq: 8, nk: n }),
    };
  }),
  ...atSizes(SIZES, (s) => {
    const n = (s / 16) ** 2;
    return {
      name: `attention decoder image-to-token ${n}x8 8x16`,
      setup: (gpu) => separateAttention(gpu, { batch: 1, heads: 8, headDim: 16, nq: n, nk: 8 }),
    };
  }),
];
