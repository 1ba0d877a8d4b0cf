// A kernel launch as a pure description, in the manner of onnxruntime-web's ProgramInfo: launchers
// validate shapes and build one of these; the runtime compiles (cached), binds and dispatches it.
// Tests can inspect a program (dispatch size, cache key) without running it.

import type { GpuTensor } from '../runtime/tensor.js';

export interface KernelProgram {
  /** Variant name `<op>-<strategy>-<elem>`, e.g. `matmul-regblock-f32`. Names the kernel in errors and profiles. */
  name: string;
  /** What else changes the generated code (activation, vector width...). Shapes never go here: they are uniforms. */
  variant?: string;
  /** Complete WGSL. A function is only called on a pipeline-cache miss. */
  source: string | (() => string);
  entryPoint?: string;
  /** WGSL `override` constants (workgroup and tile sizes). Part of the cache key. */
  constants?: Record<string, number>;
  /** Storage bindings 0..n-1 in order; the uniform struct, if any, is binding n. Every binding must be used by the shader. */
  bindings: GpuTensor[];
  uniforms?: Uint8Array;
  /** Workgroup counts; each at most the adapter's maxComputeWorkgroupsPerDimension (use dispatch1d to fold). */
  workgroups: [number, number, number];
  /** For benchmarks: floating-point operations and bytes moved by this launch. */
  flops?: number;
  bytes?: number;
}

export function programKey(p: KernelProgram): string {
  const c = p.constants ? Object.entries(p.constants).sort().map(([k, v]) => `${k}=${v}`).join(',') : '';
  return `${p.name}[${p.variant ?? ''}]{${c}}`;
}

export const MAX_WORKGROUPS_PER_DIM = 65535;

/**
 * Workgroup counts for `threads` invocations of a 1-D kernel with `wgSize` lanes, folded into 2-D
 * when more than 65 535 workgroups are needed. Pair with the WGSL snippet `LINEAR_ID` (wgsl.ts).
 */
export function dispatch1d(threads: number, wgSize: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / wgSize));
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  return [Math.ceil(groups / y), y, 1];
}

/** Asserts a condition of a launcher's contract with a message naming the kernel. */
export function check(cond: unknown, kernel: string, msg: string): asserts cond {
  if (!cond) throw new Error(`${kernel}: ${msg}`);
}
