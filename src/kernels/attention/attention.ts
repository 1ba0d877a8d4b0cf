// Launchers for scaled-dot-product attention over strided token views (see token-view.ts):
// out[b, i, h·hd + c] = Σ_j softmax_j(scale · q[b,i,h]·k[b,j,h]) · v[b, j, h·hd + c]
// (F.scaled_dot_product_attention as called by hieradet.py MultiScaleAttention and
// sam/transformer.py Attention / RoPEAttention after _separate_heads).
import type { Gpu } from '../../runtime/gpu.js';
import type { GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, MAX_WORKGROUPS_PER_DIM, type KernelProgram } from '../program.js';
import { attentionSource, HEAD_DIM_TIERS, type HeadDimTier, type KvAccess } from './attention.wgsl.js';
import { isTokenView, resolveView, type TokenView } from './token-view.js';

export interface AttentionShape {
  /** Batch items (windows for Hiera windowed attention); q, k, v and out each advance by their batchStride. */
  batch: number;
  heads: number;
  headDim: number;
  /** Query tokens per batch item. */
  nq: number;
  /** Key/value tokens per batch item. */
  nk: number;
  /** Softmax scale; default 1/sqrt(headDim) (PyTorch SDPA). */
  scale?: number;
  /**
   * Invocations per workgroup (each owns 4 query rows). 8 = one SIMD vector on lavapipe, which
   * wastes least on small Nq; GPUs want 32-64.
   */
  workgroupSize?: number;
}

/** Query rows owned by one invocation (the lanes of the kernel's vec4/mat4x4 math). */
const ROWS_PER_INVOCATION = 4;
const DEFAULT_WG = 8;

export function headDimTier(headDim: number): HeadDimTier | undefined {
  return HEAD_DIM_TIERS.find((t) => headDim <= t);
}

/**
 * q: batch × nq tokens, k and v: batch × nk tokens; head h of a token occupies channels
 * [h·hd, (h+1)·hd) from the token's start. q, k and v may be views of one fused buffer (e.g. a qkv
 * projection [N, 3·H·hd]); out must be another buffer. Plain tensors are read as contiguous
 * [batch, tokens, heads·hd].
 */
export function attentionProgram(
  q: GpuTensor | TokenView,
  k: GpuTensor | TokenView,
  v: GpuTensor | TokenView,
  out: GpuTensor | TokenView,
  s: AttentionShape,
): KernelProgram {
  const qt = isTokenView(q) ? q.tensor : q;
  const name = `attention-streaming-${qt.dtype}`;
  const { batch, heads, headDim: hd, nq, nk } = s;
  const wg = s.workgroupSize ?? DEFAULT_WG;
  for (const [n, x] of [['batch', batch], ['heads', heads], ['headDim', hd], ['nq', nq], ['nk', nk], ['workgroupSize', wg]] as const) {
    check(Number.isInteger(x) && x >= 1, name, `${n} must be a positive integer, got ${x}`);
  }
  const tier = headDimTier(hd);
  check(tier !== undefined, name, `headDim ${hd} exceeds the largest supported head dim ${HEAD_DIM_TIERS[HEAD_DIM_TIERS.length - 1]}`);
  const scale = s.scale ?? 1 / Math.sqrt(hd);
  check(Number.isFinite(scale), name, `scale ${scale} is not finite`);
  const c = heads * hd;
  const qv = resolveView(q, batch, nq, c, name, 'q');
  const kv = resolveView(k, batch, nk, c, name, 'k');
  const vv = resolveView(v, batch, nk, c, name, 'v');
  const ov = resolveView(out, batch, nq, c, name, 'out');
  for (const t of [kv, vv, ov]) check(t.tensor.dtype === qv.tensor.dtype, name, 'q, k, v and out must share one dtype');
  for (const t of [qv, kv, vv]) {
    check(t.tensor.buffer !== ov.tensor.buffer, name, 'out must not share a buffer with q, k or v (a read-write binding cannot alias a read one)');
  }
  const qBlocks = Math.ceil(nq / (ROWS_PER_INVOCATION * wg));
  check(
    qBlocks <= MAX_WORKGROUPS_PER_DIM && heads <= MAX_WORKGROUPS_PER_DIM && batch <= MAX_WORKGROUPS_PER_DIM,
    name,
    `grid [${qBlocks}, ${heads}, ${batch}] exceeds ${MAX_WORKGROUPS_PER_DIM} workgroups per dimension`,
  );
  // k/v as vec4 whenever every chunk of 4 channels is 16-byte aligned (all SAM 2 shapes).
  const aligned = [hd, kv.offset, kv.rowStride, kv.batchStride, vv.offset, vv.rowStride, vv.batchStride].every((x) => x % 4 === 0);
  const access: KvAccess = aligned ? 'vec4' : 'scalar';
  const elem = qv.tensor.dtype === 'f16' ? 2 : 4;
  return {
    name,
    variant: `hd${tier}-${access}`,
    source: () => attentionSource(qv.tensor.dtype, tier, access),
    constants: { WG: wg },
    bindings: [qv.tensor, kv.tensor, vv.tensor, ov.tensor],
    uniforms: uniforms([
      ['u32', nq], ['u32', nk], ['u32', hd], ['f32', scale],
      ['u32', qv.offset], ['u32', qv.rowStride], ['u32', qv.batchStride],
      ['u32', kv.offset], ['u32', kv.rowStride], ['u32', kv.batchStride],
      ['u32', vv.offset], ['u32', vv.rowStride], ['u32', vv.batchStride],
      ['u32', ov.offset], ['u32', ov.rowStride], ['u32', ov.batchStride],
    ]),
    workgroups: [qBlocks, heads, batch],
    flops: 4 * batch * heads * nq * nk * hd,
    // q and out once; k and v once per block of query rows (re-read from cache).
    bytes: elem * batch * c * (2 * nq + 2 * nk * qBlocks),
  };
}

/** Runs attention; allocates out = [batch, nq, heads·headDim] when not given. Returns out's tensor. */
export function attention(
  gpu: Gpu,
  q: GpuTensor | TokenView,
  k: GpuTensor | TokenView,
  v: GpuTensor | TokenView,
  s: AttentionShape,
  out?: GpuTensor | TokenView,
): GpuTensor {
  const dtype = (isTokenView(q) ? q.tensor : q).dtype;
  const o = out ?? gpu.empty([s.batch, s.nq, s.heads * s.headDim], dtype, 'attention');
  gpu.run(attentionProgram(q, k, v, o, s));
  return isTokenView(o) ? o.tensor : o;
}
