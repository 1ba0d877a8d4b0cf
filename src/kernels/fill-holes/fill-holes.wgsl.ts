// Hole filling on mask logits (upstream sam2/utils/misc.py `fill_holes_in_mask_scores` with the
// CUDA connected components of sam2/csrc/connected_components.cu): the background (logit <= 0) of
// each of B masks is split into 8-connected components, and every component of at most `max_area`
// pixels gets the logit `fill`. Four passes over one pixel per invocation, no host round trip:
//   init   parent[i] = i on background, NONE elsewhere; count[i] = 0
//   merge  union of each background pixel with its background neighbours W, NW, N, NE
//          (lock-free union-find: parents only decrease, roots are joined with atomicMin, as the
//          CUDA kernel does; every pair of 8-neighbours is seen once)
//   count  parent[i] = root(i) (path compression) and count[root] += 1
//   apply  out[i] = fill where the pixel's component is small, else src[i]
// Pixel indices are global over the batch, so components never cross masks.
import { header, LINEAR_ID } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

const PARAMS = /* wgsl */ `
struct Params { n: u32, h: u32, w: u32, max_area: u32, fill: f32, _pad0: u32, _pad1: u32, _pad2: u32 }
const NONE: u32 = 0xffffffffu;
override WG: u32 = 256;
`;

const FIND = /* wgsl */ `
fn find_root(start: u32) -> u32 {
  var n = start;
  loop {
    let p = atomicLoad(&parent[n]);
    if (p == n) { break; }
    n = p;
  }
  return n;
}
`;

export function fillHolesInitSource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}${PARAMS}
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read_write> parent: array<u32>;
@group(0) @binding(2) var<storage, read_write> count: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  parent[i] = select(NONE, i, f32(src[i]) <= 0.0);
  count[i] = 0u;
}
`;
}

export function fillHolesMergeSource(): string {
  return /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read_write> parent: array<atomic<u32>>;
@group(0) @binding(1) var<uniform> p: Params;
${FIND}
fn unite(a0: u32, b0: u32) {
  var a = a0;
  var b = b0;
  loop {
    a = find_root(a);
    b = find_root(b);
    if (a == b) { break; }
    // Hang the larger root under the smaller one; if it stopped being a root meanwhile, retry from
    // what it points to now.
    if (a < b) {
      let old = atomicMin(&parent[b], a);
      if (old == b) { break; }
      b = old;
    } else {
      let old = atomicMin(&parent[a], b);
      if (old == a) { break; }
      a = old;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  if (atomicLoad(&parent[i]) == NONE) { return; }
  let x = (i % (p.h * p.w)) % p.w;
  let y = (i % (p.h * p.w)) / p.w;
  if (x > 0u && atomicLoad(&parent[i - 1u]) != NONE) { unite(i, i - 1u); }
  if (y > 0u) {
    let up = i - p.w;
    if (x > 0u && atomicLoad(&parent[up - 1u]) != NONE) { unite(i, up - 1u); }
    if (atomicLoad(&parent[up]) != NONE) { unite(i, up); }
    if (x + 1u < p.w && atomicLoad(&parent[up + 1u]) != NONE) { unite(i, up + 1u); }
  }
}
`;
}

export function fillHolesCountSource(): string {
  return /* wgsl */ `${PARAMS}
@group(0) @binding(0) var<storage, read_write> parent: array<atomic<u32>>;
@group(0) @binding(1) var<storage, read_write> count: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> p: Params;
${FIND}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  if (atomicLoad(&parent[i]) == NONE) { return; }
  let r = find_root(i);
  atomicStore(&parent[i], r);
  atomicAdd(&count[r], 1u);
}
`;
}

export function fillHolesApplySource(dtype: DType): string {
  return /* wgsl */ `${header(dtype)}${PARAMS}
@group(0) @binding(0) var<storage, read> src: array<T>;
@group(0) @binding(1) var<storage, read> parent: array<u32>;
@group(0) @binding(2) var<storage, read> count: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<T>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i >= p.n) { return; }
  let r = parent[i];
  let hole = r != NONE && count[r] <= p.max_area;
  out[i] = select(src[i], T(p.fill), hole);
}
`;
}
