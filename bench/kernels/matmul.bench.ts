// GEMMs (src/kernels/matmul) at sam2.1 hiera-t shapes: Hiera qkv / MLP projections (stage 1 with
// the most tokens, stage 3 with the most FLOPs), memory-attention projections and FFN, the FPN
// 1×1 laterals, the decoder's mask product, plus a 1024³ matmul for comparison with other engines.
import { linear, matmul, type LinearOptions } from '../../src/kernels/matmul/matmul.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];

/** y [m, n] = act(x [m, k] · Wᵀ + b) (+ residual), W [n, k] as in the checkpoint. */
function linearSetup(gpu: Gpu, m: number, k: number, n: number, opts: { act?: LinearOptions['act']; residual?: boolean } = {}) {
  const x = randomTensor(gpu, [m, k], 71);
  const w = randomTensor(gpu, [n, k], 72, -0.1, 0.1);
  const b = randomTensor(gpu, [n], 73);
  const residual = opts.residual ? randomTensor(gpu, [m, n], 74) : undefined;
  const out = gpu.empty([m, n]);
  return {
    launch: () => linear(gpu, x, w, b, { act: opts.act, residual }, out),
    release: () => releaseAll(x, w, b, residual, out),
  };
}

interface LinearShape {
  what: string;
  /** Tokens as a function of the image side. */
  tokens: (s: number) => number;
  k: number;
  n: number;
  act?: LinearOptions['act'];
  residual?: boolean;
}

const padded = (side: number, w: number) => (Math.ceil(side / w) * w) ** 2;

const LINEARS: LinearShape[] = [
  // Stage 1 (block 0): (S/4)² tokens, 96 channels.
  { what: 'hiera-t blk0 qkv', tokens: (s) => (s / 4) ** 2, k: 96, n: 288 },
  { what: 'hiera-t blk0 mlp fc1 +gelu', tokens: (s) => (s / 4) ** 2, k: 96, n: 384, act: 'gelu' },
  { what: 'hiera-t blk0 mlp fc2 +residual', tokens: (s) => (s / 4) ** 2, k: 384, n: 96, residual: true },
  // Stage 3 windowed blocks: qkv on the zero-padded map; MLP on the (S/16)² tokens.
  { what: 'hiera-t stage3 qkv (padded windows)', tokens: (s) => padded(s / 16, 14), k: 384, n: 1152 },
  { what: 'hiera-t stage3 attn proj', tokens: (s) => padded(s / 16, 14), k: 384, n: 384 },
  { what: 'hiera-t stage3 mlp fc1 +gelu', tokens: (s) => (s / 16) ** 2, k: 384, n: 1536, act: 'gelu' },
  { what: 'hiera-t stage3 mlp fc2 +residual', tokens: (s) => (s / 16) ** 2, k: 1536, n: 384, residual: true },
  // Stage 4 MLP: (S/32)² tokens, 768 channels.
  { what: 'hiera-t stage4 mlp fc1 +gelu', tokens: (s) => (s / 32) ** 2, k: 768, n: 3072, act: 'gelu' },
  // FPN lateral (1×1 conv) on stage 3 and the folded conv_s0 on stage 1.
  { what: 'neck lateral stage3 1x1', tokens: (s) => (s / 16) ** 2, k: 384, n: 256 },
  { what: 'neck conv_s0 (folded) stage1 1x1', tokens: (s) => (s / 4) ** 2, k: 96, n: 32 },
  // Memory attention: q projection, cross-attention K projection of the full bank, FFN.
  { what: 'mem-attn q_proj', tokens: (s) => (s / 16) ** 2, k: 256, n: 256 },
  { what: 'mem-attn cross k_proj (full bank)', tokens: (s) => 7 * (s / 16) ** 2 + 64, k: 64, n: 256 },
  { what: 'mem-attn ffn linear1 +relu', tokens: (s) => (s / 16) ** 2, k: 256, n: 2048, act: 'relu' },
  { what: 'mem-attn ffn linear2 +residual', tokens: (s) => (s / 16) ** 2, k: 2048, n: 256, residual: true },
  // Mask decoder: image tokens → cross-attention width 128, and the hypernetwork mask product.
  { what: 'decoder image k_proj', tokens: (s) => (s / 16) ** 2, k: 256, n: 128 },
  { what: 'decoder mask product', tokens: (s) => (s / 4) ** 2, k: 32, n: 4 },
];

export const benches: BenchCase[] = [
  ...LINEARS.flatMap((l) =>
    atSizes(SIZES, (s) => {
      const m = l.tokens(s);
      return {
        name: `linear ${l.what} ${m}x${l.k}->${l.n}`,
        setup: (gpu) => linearSetup(gpu, m, l.k, l.n, { act: l.act, residual: l.residual }),
      };
    }),
  ),
  {
    name: 'matmul square 1024x1024x1024',
    imageSize: 0,
    setup(gpu) {
      const a = randomTensor(gpu, [1024, 1024], 75);
      const b = randomTensor(gpu, [1024, 1024], 76);
      const out = gpu.empty([1024, 1024]);
      return { launch: () => matmul(gpu, a, b, {}, out), release: () => releaseAll(a, b, out) };
    },
  },
];
