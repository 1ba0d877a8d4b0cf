// A strided window onto a token matrix, so attention and RoPE can read q, k and v straight out of a
// fused projection output (e.g. Hiera's qkv [N, 3·H·hd] or a batch of windows) without a copy.

import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { check } from '../program.js';

/**
 * Token t of batch item b starts at element `offset + b·batchStride + t·rowStride` of `tensor`; its
 * channels are contiguous from there. All quantities are in elements, not bytes.
 */
export interface TokenView {
  tensor: GpuTensor;
  /** First element of token 0 of batch item 0 (default 0). */
  offset?: number;
  /** Elements between consecutive tokens (default: the channel count the op reads). */
  rowStride?: number;
  /** Elements between consecutive batch items (default: rowStride · tokens). */
  batchStride?: number;
}

/** A view with every default filled in. */
export interface ResolvedView {
  tensor: GpuTensor;
  offset: number;
  rowStride: number;
  batchStride: number;
}

export function isTokenView(x: GpuTensor | TokenView): x is TokenView {
  return (x as TokenView).tensor !== undefined;
}

/**
 * Fills the defaults of `view` for `batch` items of `tokens` tokens × `channels` channels and checks
 * that every element it reaches lies inside the tensor.
 */
export function resolveView(
  view: GpuTensor | TokenView,
  batch: number,
  tokens: number,
  channels: number,
  kernel: string,
  what: string,
): ResolvedView {
  const v: TokenView = isTokenView(view) ? view : { tensor: view };
  const offset = v.offset ?? 0;
  const rowStride = v.rowStride ?? channels;
  const batchStride = v.batchStride ?? rowStride * tokens;
  for (const [name, x] of [['offset', offset], ['rowStride', rowStride], ['batchStride', batchStride]] as const) {
    check(Number.isInteger(x) && x >= 0 && x <= 0xffffffff, kernel, `${what}.${name} = ${x} is not a valid element count`);
  }
  check(rowStride >= channels || tokens <= 1, kernel, `${what}.rowStride ${rowStride} is smaller than the ${channels} channels read per token`);
  const last = offset + (batch - 1) * batchStride + (tokens - 1) * rowStride + channels;
  check(
    last <= v.tensor.size,
    kernel,
    `${what} (${batch} × ${tokens} tokens × ${channels} channels, offset ${offset}, rowStride ${rowStride}, ` +
      `batchStride ${batchStride}) reaches element ${last} but tensor ${v.tensor.label} ${shapeStr(v.tensor.shape)} has ${v.tensor.size}`,
  );
  return { tensor: v.tensor, offset, rowStride, batchStride };
}
