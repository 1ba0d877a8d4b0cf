// Row ranges of token matrices [N, C], for processing large activations in chunks: a single
// storage binding is limited (128 MiB on lavapipe), so layers whose intermediate would exceed a
// budget run over ranges of rows, reading and writing views into the whole tensors.
import type { Gpu } from '../../runtime/gpu.js';
import { GpuTensor } from '../../runtime/tensor.js';

/** Rows r0..r1 of a [N, C] tensor as a view (no copy, never released by itself). */
export function rowSlice(t: GpuTensor, r0: number, r1: number): GpuTensor {
  const c = t.shape[t.shape.length - 1];
  const n = t.size / c;
  if (!(Number.isInteger(r0) && Number.isInteger(r1) && 0 <= r0 && r0 < r1 && r1 <= n)) {
    throw new Error(`rowSlice ${t.label}: rows [${r0}, ${r1}) outside [0, ${n})`);
  }
  if (r0 === 0 && r1 === n) return t.reshape([n, c]);
  const bytesPerElem = t.byteLength / t.size;
  return new GpuTensor(t.buffer, [r1 - r0, c], t.dtype, t.offset + r0 * c * bytesPerElem, undefined, t.label);
}

/** Byte budget for one intermediate binding: half the adapter's binding limit, at most 64 MiB. */
export function chunkBudget(gpu: Gpu): number {
  return Math.min(gpu.device.limits.maxStorageBufferBindingSize / 2, 64 * 2 ** 20);
}

/**
 * Splits `n` items of `itemBytes` bytes each (an item is a row or a window) into ranges whose
 * intermediate fits `budget` bytes. Range starts are multiples of an alignment chosen so that a
 * view starting there satisfies the storage-offset alignment for every tensor viewed per item
 * (`itemElems` lists their element counts per item; the alignment holds for f16 and f32 elements).
 */
export function chunkRanges(gpu: Gpu, n: number, itemBytes: number, itemElems: readonly number[], budget = chunkBudget(gpu), what = 'layer'): Array<[number, number]> {
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  if (itemBytes > limit) {
    throw new Error(`${what}: one item needs ${(itemBytes / 2 ** 20).toFixed(1)} MiB, over this adapter's ${(limit / 2 ** 20).toFixed(0)} MiB storage binding limit`);
  }
  const alignBytes = gpu.device.limits.minStorageBufferOffsetAlignment;
  let align = 1;
  for (const e of itemElems) {
    const a = alignBytes / gcd(e * 2, alignBytes);
    align = (align * a) / gcd(align, a);
  }
  let per = Math.max(1, Math.floor(budget / itemBytes));
  if (per >= n) return [[0, n]];
  per = Math.max(align, Math.floor(per / align) * align);
  if (per * itemBytes > limit) throw new Error(`${what}: cannot chunk ${n} items of ${itemBytes} bytes at alignment ${align}`);
  const out: Array<[number, number]> = [];
  for (let r = 0; r < n; r += per) out.push([r, Math.min(n, r + per)]);
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
