// One readback per tracked slice: the tensors the host keeps (decision flags, object pointers,
// low-res logits, packed output masks) copied back to back into a single u32 buffer on the GPU, so
// the host maps it once, asynchronously, while the next slice runs.
import type { Gpu } from '../runtime/gpu.js';
import { DTYPE_BYTES, shapeStr, type GpuTensor } from '../runtime/tensor.js';

/** Copies tensors back to back into `dst` from word `at` (recorded in order with the dispatches); returns the end word. */
export function copyWords(gpu: Gpu, parts: readonly GpuTensor[], dst: GpuTensor, at = 0): number {
  let words = at;
  const enc = gpu.recorder.commandEncoder();
  for (const t of parts) {
    if (DTYPE_BYTES[t.dtype] !== 4) throw new Error(`slice packet: ${t.label} ${shapeStr(t.shape)} is ${t.dtype}; only 4-byte elements are packed`);
    if (4 * (words + t.size) > dst.byteLength) throw new Error(`slice packet: ${t.label} does not fit in ${dst.label} ${shapeStr(dst.shape)}`);
    enc.copyBufferToBuffer(t.buffer, t.offset, dst.buffer, dst.offset + 4 * words, 4 * t.size);
    words += t.size;
  }
  return words;
}

/** A new u32 tensor holding `parts` back to back (4-byte element tensors). */
export function packTensors(gpu: Gpu, parts: readonly GpuTensor[]): GpuTensor {
  const packet = gpu.empty([parts.reduce((n, t) => n + t.size, 0)], 'u32', 'slice-packet');
  copyWords(gpu, parts, packet);
  return packet;
}

/** Splits a packet read back from `packTensors` into copies of its parts (sizes in words). */
export function splitWords(raw: ArrayBuffer, sizes: readonly number[]): ArrayBuffer[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (4 * total > raw.byteLength) throw new Error(`slice packet: ${raw.byteLength} bytes read back, ${4 * total} expected`);
  let at = 0;
  return sizes.map((n) => raw.slice(4 * at, 4 * (at += n)));
}
