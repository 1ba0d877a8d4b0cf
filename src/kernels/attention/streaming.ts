// Variant `attention-streaming`: the streaming-softmax kernel of streaming.wgsl.ts (4 query rows per
// invocation, no workgroup memory, no barriers). The default on CPU adapters (lavapipe,
// SwiftShader), where barriers and shared memory are expensive; it supports every spec.
import { check, MAX_WORKGROUPS_PER_DIM, type KernelProgram } from '../program.js';
import { cfgKey, type KernelConfig, type KernelVariant, type Scratch } from '../registry.js';
import { ropeProgram } from '../rope/rope.js';
import { attentionUniforms, extraIo, inputIo } from './attention-io.js';
import { addressMode, attentionFlops, elemBytes, headDimTier, kvAccess, type AttentionSpec } from './attention-spec.js';
import { streamingSource } from './streaming.wgsl.js';
import type { ResolvedView } from './token-view.js';

/** Query rows owned by one invocation (the lanes of the kernel's vec4/mat4x4 math). */
const ROWS_PER_INVOCATION = 4;

export function streamingProgram(s: AttentionSpec, cfg: KernelConfig): KernelProgram {
  const mode = addressMode(s);
  const access = kvAccess(s);
  const qTier = headDimTier(s.headDim);
  const tier = headDimTier(s.vHeadDim);
  const name = `attention-streaming-${s.dtype}`;
  const wg = cfg.WG;
  check(Number.isInteger(wg) && wg >= 1 && wg <= 256, name, `WG ${wg} must be in [1, 256]`);
  const qBlocks = Math.ceil(s.nq / (ROWS_PER_INVOCATION * wg));
  check(
    qBlocks <= MAX_WORKGROUPS_PER_DIM && s.heads <= MAX_WORKGROUPS_PER_DIM && s.batch <= MAX_WORKGROUPS_PER_DIM,
    name,
    `grid [${qBlocks}, ${s.heads}, ${s.batch}] exceeds ${MAX_WORKGROUPS_PER_DIM} workgroups per dimension`,
  );
  const input = inputIo(s);
  const extra = extraIo(s);
  const decls = [...input.decls, { name: 'out', type: 'array<T>', access: 'read_write' as const }, ...extra.decls];
  const c = s.heads * s.headDim;
  const cv = s.heads * s.vHeadDim;
  return {
    name,
    variant: `${mode}-hd${qTier}-vhd${tier}-${access}-${cfgKey(cfg)}`,
    source: () => streamingSource(s.dtype, qTier, tier, access, mode, decls, cfg),
    bindings: [...input.tensors, s.out.tensor, ...extra.tensors],
    uniforms: attentionUniforms(s),
    workgroups: [qBlocks, s.heads, s.batch],
    flops: attentionFlops(s),
    // q and out once; k and v once per block of query rows (re-read from cache).
    bytes: elemBytes(s) * s.batch * (s.nq * (c + cv) + s.nk * (c + cv) * qBlocks),
  };
}

/**
 * With RoPE and ROPE = 0, q and k are rotated by separate rope dispatches into scratch copies and
 * the kernel reads those: measured on lavapipe, rotating in the loads costs ~3× the attention
 * (q is re-read and re-rotated per key tile, the table gathered per row), far more than the two
 * memory-bound rope passes. Fused (ROPE = 1) on GPUs, where the loads are not the bottleneck.
 */
function buildStreaming(s: AttentionSpec, cfg: KernelConfig, scratch: Scratch): KernelProgram[] {
  const { ROPE, ...compile } = cfg;
  if (!s.rope || ROPE) return [streamingProgram(s, compile)];
  const r = s.rope;
  const c = s.heads * s.headDim;
  const programs: KernelProgram[] = [];
  const rotated = (v: ResolvedView, tokens: number, excluded: number, label: string): ResolvedView => {
    const t = scratch([s.batch * tokens, c], s.dtype, label);
    for (let b = 0; b < s.batch; b++) {
      const src = { tensor: v.tensor, offset: v.offset + b * v.batchStride, rowStride: v.rowStride };
      const dst = { tensor: t, offset: b * tokens * c, rowStride: c };
      const grid = r.table.endX * r.table.endY;
      programs.push(ropeProgram(src, r.table, { tokens, heads: s.heads, headDim: s.headDim, repeat: tokens - excluded !== grid, numExcludedTail: excluded }, dst));
    }
    return { tensor: t, offset: 0, rowStride: c, batchStride: tokens * c };
  };
  const q = r.qRotated ? rotated(s.q, s.nq, 0, 'attention rope q') : s.q;
  const k = r.kRotated ? rotated(s.k, s.nk, s.nk - r.kRotated, 'attention rope k') : s.k;
  programs.push(streamingProgram({ ...s, q, k, rope: undefined }, compile));
  return programs;
}

export const streamingVariant: KernelVariant<AttentionSpec> = {
  id: 'attention-streaming',
  supports: (s, t) => s.dtype === 'f32' || t.f16,
  // 8 lanes = one SIMD vector on lavapipe, which wastes least on small Nq; GPUs want 32-64.
  configs: (_s, t) =>
    t.kind === 'cpu'
      ? [{ WG: 8, ROPE: 0 }, { WG: 32, ROPE: 0 }, { WG: 8, ROPE: 1 }]
      : [{ WG: 32, ROPE: 1 }, { WG: 64, ROPE: 1 }, { WG: 8, ROPE: 1 }, { WG: 32, ROPE: 0 }],
  build: buildStreaming,
};
