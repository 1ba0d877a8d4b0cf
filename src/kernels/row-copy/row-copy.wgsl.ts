// Strided row copy: gathers or scatters the same rows of every item of a batch (e.g. one output
// token of each object's decoder tokens) in one dispatch.
import { header, LINEAR_ID } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

/** out[dst_off + r·dst_stride + j] = src[src_off + r·src_stride + j] for r < rows, j < count. */
export function rowCopySource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { rows: u32, count: u32, src_off: u32, src_stride: u32, dst_off: u32, dst_stride: u32, _pad0: u32, _pad1: u32 }
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.rows * p.count) { return; }
  let r = i / p.count;
  let j = i - r * p.count;
  out[p.dst_off + r * p.dst_stride + j] = src[p.src_off + r * p.src_stride + j];
}
`;
}
