// Item b of a tensor stacked along a leading batch axis (several objects run as one chain). A
// view costs nothing but must start on a storage-binding boundary; otherwise the item is copied.
import { copyRange, sliceCopy } from '../../kernels/mask-select/mask-select.js';
import type { Gpu } from '../../runtime/gpu.js';
import { GpuTensor } from '../../runtime/tensor.js';

function numel(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/**
 * A view of item b (elements [b·n, (b+1)·n) for n = numel(shape)) when its byte offset is aligned
 * for a storage binding, else null. The view does not own the storage: `stacked` must outlive it,
 * and releasing the view does nothing.
 */
export function itemView(gpu: Gpu, stacked: GpuTensor, b: number, shape: readonly number[]): GpuTensor | null {
  const n = numel(shape);
  if ((b + 1) * n > stacked.size) throw new Error(`batch item ${b} of ${n} elements lies outside ${stacked.label} [${stacked.shape.join(', ')}]`);
  const bytes = stacked.byteLength / stacked.size;
  const offset = stacked.offset + b * n * bytes;
  if (offset % gpu.device.limits.minStorageBufferOffsetAlignment !== 0) return null;
  return new GpuTensor(stacked.buffer, shape, stacked.dtype, offset, undefined, `${stacked.label}[${b}]`);
}

/**
 * A view of item b for copy commands only (copyBufferToBuffer needs 4-byte offsets, not the
 * storage-binding alignment): the memory bank's pointer store and the slice packet take these.
 * Like `itemView`, it does not own the storage.
 */
export function copySourceItem(stacked: GpuTensor, b: number, shape: readonly number[]): GpuTensor {
  const n = numel(shape);
  if ((b + 1) * n > stacked.size) throw new Error(`batch item ${b} of ${n} elements lies outside ${stacked.label} [${stacked.shape.join(', ')}]`);
  const bytes = stacked.byteLength / stacked.size;
  return new GpuTensor(stacked.buffer, shape, stacked.dtype, stacked.offset + b * n * bytes, undefined, `${stacked.label}[${b}] (copy source)`);
}

/** Item b to read from: a view when aligned, else a copy. `release()` is right for both. */
export function readItem(gpu: Gpu, stacked: GpuTensor, b: number, shape: readonly number[]): GpuTensor {
  return itemView(gpu, stacked, b, shape) ?? sliceCopy(gpu, stacked, shape, b * numel(shape));
}

/**
 * Item b to write into: `write(out)` fills it (a view when aligned, else a scratch tensor copied
 * into place afterwards).
 */
export function writeItem(gpu: Gpu, stacked: GpuTensor, b: number, shape: readonly number[], write: (out: GpuTensor) => void): void {
  const view = itemView(gpu, stacked, b, shape);
  if (view) {
    write(view);
    return;
  }
  const scratch = gpu.empty(shape, stacked.dtype, 'batch-item');
  write(scratch);
  copyRange(gpu, scratch, stacked, { dstOffset: b * numel(shape), count: numel(shape) });
  scratch.release();
}
