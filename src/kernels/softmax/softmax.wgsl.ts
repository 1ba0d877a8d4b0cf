// Softmax over the last axis of [rows, cols]: out = exp(s·x − max(s·x)) / Σ exp(s·x − max(s·x)).
//
// Strategy "rowwise": one invocation per row, no shared memory (workgroup reductions are slow on
// CPU adapters; attention has its own fused kernel, so this generic one sees many short rows).
// Three sweeps: the max of s·x, then exp(s·x − max) written to `out` while summing, then `out`
// scaled by 1 / sum, so each element costs one exp. Subtracting the max keeps exp ≤ 1 (stable).
import { header, LINEAR_ID } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

export function softmaxSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { rows: u32, cols: u32, scale: f32, _pad: u32 }
@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = ${LINEAR_ID};
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let end = base + p.cols;
  var m = p.scale * f32(x[base]);
  for (var i = base + 1u; i < end; i++) { m = max(m, p.scale * f32(x[i])); }
  // Blocked sum (chunks of 32): a plain f32 running sum over thousands of columns drifts by ~4e-6
  // relative. (Kahan compensation does not survive the software adapter's fast-math optimizer.)
  var s = 0.0;
  for (var i0 = base; i0 < end; i0 += 32u) {
    var chunk = 0.0;
    for (var i = i0; i < min(i0 + 32u, end); i++) {
      let e = exp(p.scale * f32(x[i]) - m);
      out[i] = T(e);
      chunk += e;
    }
    s += chunk;
  }
  let inv = 1.0 / s;
  for (var i = base; i < end; i++) { out[i] = T(f32(out[i]) * inv); }
}
`;
}
