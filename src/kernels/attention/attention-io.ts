// Host side of attention-io.wgsl.ts: the uniform values and the input bindings (q, k, v and the
// mode's extra table/padding tensor) in the order the kernels declare them.
import type { GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { addressMode, kvAccess, type AttentionSpec } from './attention-spec.js';
import { extraBinding, kvType, type BindingDecl } from './attention-io.wgsl.js';

/** Keys per split when the launch is not split (split-KV passes its own chunk). */
export const NO_SPLIT = 0xffffffff;

/** The Params struct of attention-io.wgsl.ts for `s`; split-KV gives its split count and keys per split. */
export function attentionUniforms(s: AttentionSpec, nSplit = 1, keyChunk = NO_SPLIT): Uint8Array {
  const w = s.window;
  const r = s.rope;
  return uniforms([
    ['u32', s.nq], ['u32', s.nk], ['u32', s.headDim], ['u32', s.vHeadDim],
    ['f32', s.scale], ['u32', s.batch], ['u32', s.heads], ['u32', nSplit], ['u32', keyChunk],
    ['u32', s.q.offset], ['u32', s.q.rowStride], ['u32', s.q.batchStride],
    ['u32', s.k.offset], ['u32', s.k.rowStride], ['u32', s.k.batchStride],
    ['u32', s.v.offset], ['u32', s.v.rowStride], ['u32', s.v.batchStride],
    ['u32', s.out.offset], ['u32', s.out.rowStride], ['u32', s.out.batchStride],
    ['u32', r?.grid ?? 1], ['u32', r?.qRotated ?? 0], ['u32', r?.kRotated ?? 0],
    ['u32', w?.height ?? 0], ['u32', w?.width ?? 0], ['u32', w?.winH ?? 1], ['u32', w?.winW ?? 1], ['u32', w?.nwx ?? 1],
    ['u32', w?.outH ?? 0], ['u32', w?.outW ?? 0], ['u32', w?.pad?.kOffset ?? 0], ['u32', w?.pad?.vOffset ?? 0],
  ]);
}

export interface IoPart {
  decls: BindingDecl[];
  tensors: GpuTensor[];
}

/** q, k, v (bindings 0-2). */
export function inputIo(s: AttentionSpec): IoPart {
  const kv = kvType(kvAccess(s));
  return {
    decls: [
      { name: 'q', type: 'array<T>', access: 'read' },
      { name: 'k', type: kv, access: 'read' },
      { name: 'v', type: kv, access: 'read' },
    ],
    tensors: [s.q.tensor, s.k.tensor, s.v.tensor],
  };
}

/**
 * The RoPE table or the padding token, bound after the outputs. A window whose map needs no
 * padding binds q's tensor in its place (pad_count() is 0 there, so it is never read).
 */
export function extraIo(s: AttentionSpec): IoPart {
  const decl = extraBinding(addressMode(s));
  if (!decl) return { decls: [], tensors: [] };
  const tensor = s.rope ? s.rope.table.tensor : (s.window?.pad?.tensor ?? s.q.tensor);
  return { decls: [decl], tensors: [tensor] };
}
