// The SAM heads' decision packet (upstream sam2/modeling/sam/mask_decoder.py
// `_get_stability_scores`): the few scalars the host decides on (stability counts, IoUs, object
// score) in one small buffer. Copying one candidate (mask, IoU, token) out of a stacked tensor and
// the −1024 fill of absent objects run the row-copy kernel (mask-select.ts).
import { header } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

/**
 * `count_above(lid, off, n, hi, lo)` = (#(src[off + i] > hi), #(src[off + i] > lo)) over i < n
 * with torch's strict `>`: the intersection and union areas of the stability score. Every lane of
 * the workgroup calls it with the same arguments, from uniform control flow (it holds the two
 * barriers); per-lane counts are summed with workgroup atomics. `src` names the kernel's storage
 * array of T; the kernel declares `override WG`.
 */
export function countAboveFn(src: string): string {
  return /* wgsl */ `
var<workgroup> count_hi: atomic<u32>;
var<workgroup> count_lo: atomic<u32>;
fn count_above(lid: u32, off: u32, n: u32, hi: f32, lo: f32) -> vec2<u32> {
  if (lid == 0u) {
    atomicStore(&count_hi, 0u);
    atomicStore(&count_lo, 0u);
  }
  workgroupBarrier();
  var above_hi = 0u;
  var above_lo = 0u;
  for (var i = lid; i < n; i += WG) {
    let v = f32(${src}[off + i]);
    above_hi += select(0u, 1u, v > hi);
    above_lo += select(0u, 1u, v > lo);
  }
  atomicAdd(&count_hi, above_hi);
  atomicAdd(&count_lo, above_lo);
  workgroupBarrier();
  return vec2<u32>(atomicLoad(&count_hi), atomicLoad(&count_lo));
}
`;
}

/**
 * One workgroup: out[0] = #(map > hi), out[1] = #(map > lo) over map[map_off .. map_off + map_n),
 * then the f32 bits of a[0..n_a) and b[0..n_b) so that one small readback carries every host
 * decision of a decode.
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
${countAboveFn('map')}
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let counts = count_above(lid, p.map_off, p.map_n, p.hi, p.lo);
  if (lid == 0u) {
    out[0] = counts.x;
    out[1] = counts.y;
  }
  for (var j = lid; j < p.n_a; j += WG) { out[2u + j] = bitcast<u32>(f32(a[j])); }
  for (var j = lid; j < p.n_b; j += WG) { out[2u + p.n_a + j] = bitcast<u32>(f32(b[j])); }
}
`;
}
