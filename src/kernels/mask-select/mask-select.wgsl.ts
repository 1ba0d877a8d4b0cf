// The SAM heads' decision packet (upstream sam2/modeling/sam/mask_decoder.py
// `_get_stability_scores`): the few scalars the host decides on (stability counts, IoUs, object
// score) in one small buffer. Copying one candidate (mask, IoU, token) out of a stacked tensor and
// the −1024 fill of absent objects run the row-copy kernel (mask-select.ts).
import { header } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

/**
 * One workgroup: out[0] = #(map > hi), out[1] = #(map > lo) over map[map_off .. map_off + map_n),
 * then the f32 bits of a[0..n_a) and b[0..n_b) so that one small readback carries every host
 * decision of a decode. Per-lane counts are summed with workgroup atomics (two barriers in total).
 */
export function maskStatsSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { map_off: u32, map_n: u32, n_a: u32, n_b: u32, hi: f32, lo: f32, _pad0: u32, _pad1: u32 }
@group(0) @binding(0) var<storage, read> map: array<T>;
@group(0) @binding(1) var<storage, read> a: array<T>;
@group(0) @binding(2) var<storage, read> b: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;
override WG: u32 = 256;
var<workgroup> count_hi: atomic<u32>;
var<workgroup> count_lo: atomic<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    atomicStore(&count_hi, 0u);
    atomicStore(&count_lo, 0u);
  }
  workgroupBarrier();
  var hi = 0u;
  var lo = 0u;
  for (var i = lid; i < p.map_n; i += WG) {
    let v = f32(map[p.map_off + i]);
    hi += select(0u, 1u, v > p.hi);
    lo += select(0u, 1u, v > p.lo);
  }
  atomicAdd(&count_hi, hi);
  atomicAdd(&count_lo, lo);
  workgroupBarrier();
  if (lid == 0u) {
    out[0] = atomicLoad(&count_hi);
    out[1] = atomicLoad(&count_lo);
  }
  for (var j = lid; j < p.n_a; j += WG) { out[2u + j] = bitcast<u32>(f32(a[j])); }
  for (var j = lid; j < p.n_b; j += WG) { out[2u + p.n_a + j] = bitcast<u32>(f32(b[j])); }
}
`;
}
