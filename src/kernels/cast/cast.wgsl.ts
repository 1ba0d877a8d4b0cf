// Float storage conversion at component boundaries (f32 ↔ f16): activations of a component that
// runs in f16 are converted once where they enter and leave it, so kernels on either side keep one
// storage type. f32 → f16 rounds to nearest even (WGSL's f16() conversion); f16 → f32 is exact.
import type { DType } from '../../runtime/tensor.js';

export function castSource(from: DType, to: DType): string {
  return /* wgsl */ `enable f16;
struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<storage, read> src: array<${from}>;
@group(0) @binding(1) var<storage, read_write> dst: array<${to}>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * (nwg.x * WG);
  if (i >= p.n) { return; }
  dst[i] = ${to}(src[i]);
}
`;
}
