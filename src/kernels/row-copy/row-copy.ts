// Launcher for the strided row copy (see row-copy.wgsl.ts). The batched decoder uses it to gather
// one token of every object (hypernetwork, IoU and object-score inputs) and to scatter per-token
// results back, one dispatch for all objects.
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { rowCopySource } from './row-copy.wgsl.js';

const WG = 256;

export interface RowCopy {
  /** Rows to copy and elements per row. */
  rows: number;
  count: number;
  /** Element of src / dst where row 0 starts (default 0). */
  srcOffset?: number;
  dstOffset?: number;
  /** Elements between consecutive rows (default count: contiguous). */
  srcStride?: number;
  dstStride?: number;
}

export function rowCopyProgram(src: GpuTensor, dst: GpuTensor, c: RowCopy): KernelProgram {
  const name = `row-copy-${src.dtype}`;
  const { rows, count } = c;
  const [srcOffset, dstOffset] = [c.srcOffset ?? 0, c.dstOffset ?? 0];
  const [srcStride, dstStride] = [c.srcStride ?? count, c.dstStride ?? count];
  check(src.dtype === dst.dtype, name, `dtypes differ (${src.dtype} vs ${dst.dtype})`);
  check(src.dtype === 'f32' || src.dtype === 'f16', name, `float tensors only, got ${src.dtype}`);
  for (const [k, v] of [['rows', rows], ['count', count]] as const) check(Number.isInteger(v) && v >= 1, name, `${k} ${v} must be a positive integer`);
  for (const [k, v] of [['srcOffset', srcOffset], ['dstOffset', dstOffset], ['srcStride', srcStride], ['dstStride', dstStride]] as const) {
    check(Number.isInteger(v) && v >= 0, name, `${k} ${v} must be a non-negative integer`);
  }
  check(dstStride >= count || rows === 1, name, `dstStride ${dstStride} < count ${count}: rows would overlap`);
  const srcEnd = srcOffset + (rows - 1) * srcStride + count;
  const dstEnd = dstOffset + (rows - 1) * dstStride + count;
  check(srcEnd <= src.size, name, `rows reach element ${srcEnd} of src ${shapeStr(src.shape)}`);
  check(dstEnd <= dst.size, name, `rows reach element ${dstEnd} of dst ${shapeStr(dst.shape)}`);
  check(src.buffer !== dst.buffer, name, 'src and dst must be different buffers');
  return {
    name,
    source: () => rowCopySource(src.dtype),
    constants: { WG },
    bindings: [src, dst],
    uniforms: uniforms([
      ['u32', rows], ['u32', count], ['u32', srcOffset], ['u32', srcStride],
      ['u32', dstOffset], ['u32', dstStride], ['u32', 0], ['f32', 0], // no fill
    ]),
    workgroups: dispatch1d(rows * count, WG),
    bytes: rows * count * 8,
  };
}

/** Copies `rows` strided rows of src into dst (see RowCopy); returns dst. */
export function copyRows(gpu: Gpu, src: GpuTensor, dst: GpuTensor, c: RowCopy): GpuTensor {
  gpu.run(rowCopyProgram(src, dst, c));
  return dst;
}

/** A new [rows, count] tensor holding the strided rows of src. */
export function gatherRows(gpu: Gpu, src: GpuTensor, c: Omit<RowCopy, 'dstOffset' | 'dstStride'>): GpuTensor {
  return copyRows(gpu, src, gpu.empty([c.rows, c.count], src.dtype, 'rows'), c);
}
