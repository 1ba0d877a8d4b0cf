// Strided row copy: gathers or scatters the same rows of every item of a batch (e.g. one output
// token of each object's decoder tokens) in one dispatch. A contiguous range copy (mask-select's
// copyRange) is its one-row case, with the optional constant fill.
import { header, perElementMain } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

/**
 * out[dst_off + r·dst_stride + j] = fill_on ? fill : src[src_off + r·src_stride + j] for r < rows,
 * j < count.
 */
export function rowCopySource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { rows: u32, count: u32, src_off: u32, src_stride: u32, dst_off: u32, dst_stride: u32, fill_on: u32, fill: f32 }
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

fn element(i: u32) {
  let r = i / p.count;
  let j = i - r * p.count;
  out[p.dst_off + r * p.dst_stride + j] = select(src[p.src_off + r * p.src_stride + j], T(p.fill), p.fill_on != 0u);
}
${perElementMain('p.rows * p.count')}`;
}
