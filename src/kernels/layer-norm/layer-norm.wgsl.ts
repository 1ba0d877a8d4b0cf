// LayerNorm over the last axis of a [rows, C] tensor (torch.nn.LayerNorm on tokens, and SAM 2's
// LayerNorm2d, which on an NHWC map is the same op over the channels of each pixel).
//
// Strategy "rowwise": one invocation normalizes one row with three sweeps over it and no shared
// memory (workgroup reductions are slow on CPU adapters, and rows are many: up to 65 536).
//  1. shifted mean m = Σ (x_i − x_0) / C. Working relative to the row's first value keeps sums and
//     the mean small when the row has a large common offset (x_i − x_0 is exact for nearby values),
//     so the mean is accurate to a few ulp of the spread rather than of the offset.
//  2. biased variance: Σ ((x_i − x_0) − m)² / C (two-pass: no catastrophic cancellation).
//  3. out = ((x − x_0) − m) / sqrt(var + eps) · weight + bias.
// Sums use four partial accumulators (the vec4 lanes), which also shortens the error chains.
import { ERF_GELU, header, LINEAR_ID } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

const PARAMS = /* wgsl */ `
struct Params { rows: u32, c: u32, eps: f32, _pad: u32 }
`;

/** Activation applied to the normalized value before it is stored (LayerNorm2d → GELU chains). */
export type LayerNormAct = 'none' | 'gelu';

/** `fn act(y: f32) -> f32` for the epilogue. */
function actSnippet(act: LayerNormAct): string {
  return act === 'gelu' ? `${ERF_GELU}\nfn act(y: f32) -> f32 { return gelu_erf(y); }` : 'fn act(y: f32) -> f32 { return y; }';
}

/** vec4 kernel for C % 4 == 0: x, weight, bias and out are read/written as vec4 along C. */
export function layerNormVec4Source(dtype: DType, act: LayerNormAct = 'none'): string {
  return /* wgsl */ `${header(dtype)}
${PARAMS}
${actSnippet(act)}
@group(0) @binding(0) var<storage, read> x: array<vec4<T>>;
@group(0) @binding(1) var<storage, read> weight: array<vec4<T>>;
@group(0) @binding(2) var<storage, read> bias: array<vec4<T>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<T>>;
@group(0) @binding(4) var<uniform> p: Params;
override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = ${LINEAR_ID};
  if (row >= p.rows) { return; }
  let cv = p.c / 4u;
  let base = row * cv;
  let shift = f32(x[base].x);
  var s = vec4<f32>();
  for (var i = 0u; i < cv; i++) { s += vec4<f32>(x[base + i]) - shift; }
  let m = (s.x + s.y + s.z + s.w) / f32(p.c);
  var q = vec4<f32>();
  for (var i = 0u; i < cv; i++) {
    let d = (vec4<f32>(x[base + i]) - shift) - m;
    q += d * d;
  }
  let inv_std = 1.0 / sqrt((q.x + q.y + q.z + q.w) / f32(p.c) + p.eps);
  for (var i = 0u; i < cv; i++) {
    let y = ((vec4<f32>(x[base + i]) - shift) - m) * inv_std * vec4<f32>(weight[i]) + vec4<f32>(bias[i]);
    out[base + i] = vec4<T>(vec4<f32>(act(y.x), act(y.y), act(y.z), act(y.w)));
  }
}
`;
}

/** Scalar kernel for any C. */
export function layerNormScalarSource(dtype: DType, act: LayerNormAct = 'none'): string {
  return /* wgsl */ `${header(dtype)}
${PARAMS}
${actSnippet(act)}
@group(0) @binding(0) var<storage, read> x: array<T>;
@group(0) @binding(1) var<storage, read> weight: array<T>;
@group(0) @binding(2) var<storage, read> bias: array<T>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;
override WG: u32 = 64;

// (x[j] − shift) − m for j = base + i .. base + i + 3, zero past the end of the row (i + 3 may reach C + 2).
fn load4(base: u32, i: u32, shift: f32, m: f32) -> vec4<f32> {
  let e = base + p.c;
  return vec4<f32>(
    select(0.0, (f32(x[min(base + i, e - 1u)]) - shift) - m, base + i < e),
    select(0.0, (f32(x[min(base + i + 1u, e - 1u)]) - shift) - m, base + i + 1u < e),
    select(0.0, (f32(x[min(base + i + 2u, e - 1u)]) - shift) - m, base + i + 2u < e),
    select(0.0, (f32(x[min(base + i + 3u, e - 1u)]) - shift) - m, base + i + 3u < e));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = ${LINEAR_ID};
  if (row >= p.rows) { return; }
  let base = row * p.c;
  let shift = f32(x[base]);
  var s = vec4<f32>();
  for (var i = 0u; i < p.c; i += 4u) { s += load4(base, i, shift, 0.0); }
  let m = (s.x + s.y + s.z + s.w) / f32(p.c);
  var q = vec4<f32>();
  for (var i = 0u; i < p.c; i += 4u) {
    let d = load4(base, i, shift, m);
    q += d * d;
  }
  let inv_std = 1.0 / sqrt((q.x + q.y + q.z + q.w) / f32(p.c) + p.eps);
  for (var i = 0u; i < p.c; i++) {
    out[base + i] = T(act(((f32(x[base + i]) - shift) - m) * inv_std * f32(weight[i]) + f32(bias[i])));
  }
}
`;
}
