// WGSL composition helpers. Kernels are template literals that interpolate only named snippets and
// the element type aliases below, never shapes (shapes are uniforms) and never inline logic.

import type { DType } from '../runtime/tensor.js';

/** Storage element type and compute type. f32 now; an f16 variant swaps STORAGE and keeps f32 math. */
export interface ElemTypes {
  /** WGSL type of elements in storage buffers. */
  storage: 'f32' | 'f16';
  /** `enable f16;` when needed. */
  enable: string;
}

export function elemTypes(dtype: DType): ElemTypes {
  if (dtype === 'f16') return { storage: 'f16', enable: 'enable f16;' };
  if (dtype === 'f32') return { storage: 'f32', enable: '' };
  throw new Error(`no float element type for ${dtype}`);
}

/**
 * Header declaring `alias T = <storage type>;` so kernel bodies read `array<T>` and convert with
 * `f32(x)` / `T(x)`; accumulation always stays in f32.
 */
export function header(dtype: DType = 'f32'): string {
  const e = elemTypes(dtype);
  return `${e.enable}\nalias T = ${e.storage};\n`;
}

/**
 * Linear invocation id for a dispatch folded into 2-D by `dispatch1d`. Use inside an entry point
 * that declares `@builtin(global_invocation_id) gid: vec3<u32>` and `@builtin(num_workgroups) nwg: vec3<u32>`,
 * with the workgroup size in `WG`.
 */
export const LINEAR_ID = /* wgsl */ `gid.x + gid.y * (nwg.x * WG)`;

/**
 * Entry point of a kernel with one invocation per element: `main` folds the `dispatch1d` grid into
 * the linear id and calls the kernel's `fn element(i: u32)` for ids below `bound` (a WGSL
 * expression over the uniforms, e.g. `p.n`). The kernel declares `override WG`.
 */
export function perElementMain(bound: string): string {
  return /* wgsl */ `
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${LINEAR_ID};
  if (i < ${bound}) { element(i); }
}
`;
}

/**
 * erf with |error| < 1.2e-7 (Abramowitz-Stegun 7.1.26 is only 1.5e-7; this uses the
 * Numerical Recipes erfc Chebyshev fit, accurate to 1.2e-7 everywhere), and exact GELU built on it.
 */
export const ERF_GELU = /* wgsl */ `
fn erf_approx(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
          t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
          t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r - 1.0, 1.0 - r, x >= 0.0);
}
fn gelu_erf(x: f32) -> f32 {
  return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752));
}
`;
