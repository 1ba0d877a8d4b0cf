// Range copies for the SAM-heads selection (one row of the row-copy kernel): a candidate out of a
// stacked tensor, or the −1024 fill of an absent object.
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { rowCopySource } from '../row-copy/row-copy.wgsl.js';

const WG = 256;

export interface RangeCopyOptions {
  /** First element read from `src` (elements, any alignment). Default 0. */
  srcOffset?: number;
  /** First element written in `dst`. Default 0. */
  dstOffset?: number;
  /** Elements to copy. Default: all of dst after dstOffset. */
  count?: number;
  /** Write this constant instead of copying (the official `torch.where(present, x, NO_OBJ_SCORE)`). */
  fill?: number;
}

/** dst[dstOffset + i] = src[srcOffset + i] (or `fill`) for i < count: one row of the row-copy kernel. */
export function rangeCopyProgram(src: GpuTensor, dst: GpuTensor, opts: RangeCopyOptions = {}): KernelProgram {
  const name = `mask-select-copy-${src.dtype}`;
  const srcOffset = opts.srcOffset ?? 0;
  const dstOffset = opts.dstOffset ?? 0;
  const count = opts.count ?? dst.size - dstOffset;
  check(src.dtype === dst.dtype, name, `dtypes differ (${src.dtype} vs ${dst.dtype})`);
  check(src.dtype === 'f32' || src.dtype === 'f16', name, `float tensors only, got ${src.dtype}`);
  for (const [k, v] of [['srcOffset', srcOffset], ['dstOffset', dstOffset], ['count', count]] as const) {
    check(Number.isInteger(v) && v >= 0, name, `${k} ${v} must be a non-negative integer`);
  }
  check(srcOffset + count <= src.size, name, `source range [${srcOffset}, ${srcOffset + count}) lies outside src ${shapeStr(src.shape)}`);
  check(dstOffset + count <= dst.size, name, `destination range [${dstOffset}, ${dstOffset + count}) lies outside dst ${shapeStr(dst.shape)}`);
  check(src.buffer !== dst.buffer, name, 'src and dst must be different buffers');
  const fillOn = opts.fill !== undefined;
  return {
    name,
    source: () => rowCopySource(src.dtype),
    constants: { WG },
    bindings: [src, dst],
    uniforms: uniforms([
      ['u32', 1], ['u32', count], ['u32', srcOffset], ['u32', count],
      ['u32', dstOffset], ['u32', count], ['u32', fillOn ? 1 : 0], ['f32', opts.fill ?? 0],
    ]),
    workgroups: dispatch1d(count, WG),
    bytes: count * (fillOn ? 4 : 8),
  };
}

/** Copies a range of `src` into `dst` (see RangeCopyOptions). */
export function copyRange(gpu: Gpu, src: GpuTensor, dst: GpuTensor, opts: RangeCopyOptions = {}): GpuTensor {
  gpu.run(rangeCopyProgram(src, dst, opts));
  return dst;
}

/** A new tensor of `shape` holding src[srcOffset ..] (or the constant `fill`). */
export function sliceCopy(gpu: Gpu, src: GpuTensor, shape: readonly number[], srcOffset = 0, fill?: number): GpuTensor {
  const o = gpu.empty(shape, src.dtype, 'slice');
  gpu.run(rangeCopyProgram(src, o, { srcOffset, fill }));
  return o;
}
