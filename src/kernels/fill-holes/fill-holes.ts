// Launchers of the hole-filling passes (see fill-holes.wgsl.ts).
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { fillHolesApplySource, fillHolesCountSource, fillHolesInitSource, fillHolesMergeSource } from './fill-holes.wgsl.js';

const WG = 256;

/** The logit upstream writes into a filled hole (`torch.where(is_hole, 0.1, mask)`). */
export const HOLE_FILL_LOGIT = 0.1;

export interface FillHolesArgs {
  /** Mask logits [..., H, W] (f32 or f16): every leading dimension is one more mask. */
  src: GpuTensor;
  /** Same shape and dtype as src, a different buffer: the filled logits. */
  out: GpuTensor;
  /** Scratch u32 tensors of src.size words each: union-find parents and component areas. */
  parent: GpuTensor;
  count: GpuTensor;
  /** Background components of at most this many pixels are filled (≥ 1). */
  maxArea: number;
  /** Logit written into the holes (default 0.1, as upstream). */
  fill?: number;
}

/** The four programs, in order: init, merge, count, apply. */
export function fillHolesPrograms(args: FillHolesArgs): KernelProgram[] {
  const { src, out, parent, count, maxArea } = args;
  const name = `fill-holes-${src.dtype}`;
  check(src.shape.length >= 2, name, `src must be [..., H, W], got ${shapeStr(src.shape)}`);
  check(src.dtype === 'f32' || src.dtype === 'f16', name, `float logits only, got ${src.dtype}`);
  check(out.dtype === src.dtype && out.size === src.size, name, `out ${shapeStr(out.shape)} ${out.dtype} must match src ${shapeStr(src.shape)} ${src.dtype}`);
  check(out.buffer !== src.buffer, name, 'src and out must be different buffers');
  for (const [k, t] of [['parent', parent], ['count', count]] as const) {
    check(t.dtype === 'u32' && t.size >= src.size, name, `${k} must be u32 with at least ${src.size} words, got ${shapeStr(t.shape)} ${t.dtype}`);
  }
  check(parent.buffer !== count.buffer, name, 'parent and count must be different buffers');
  check(Number.isInteger(maxArea) && maxArea >= 1, name, `maxArea ${maxArea} must be a positive integer`);
  const n = src.size;
  check(n < 0xffffffff, name, `${n} pixels do not fit 32-bit labels`);
  const h = src.shape[src.shape.length - 2];
  const w = src.shape[src.shape.length - 1];
  const u = uniforms([
    ['u32', n], ['u32', h], ['u32', w], ['u32', Math.min(maxArea, 0xffffffff)],
    ['f32', args.fill ?? HOLE_FILL_LOGIT], ['u32', 0], ['u32', 0], ['u32', 0],
  ]);
  const workgroups = dispatch1d(n, WG);
  const common = { constants: { WG }, uniforms: u, workgroups };
  return [
    { name: `fill-holes-init-${src.dtype}`, source: () => fillHolesInitSource(src.dtype), bindings: [src, parent, count], bytes: n * 12, ...common },
    { name: 'fill-holes-merge', source: fillHolesMergeSource, bindings: [parent], bytes: n * 20, ...common },
    { name: 'fill-holes-count', source: fillHolesCountSource, bindings: [parent, count], bytes: n * 16, ...common },
    { name: `fill-holes-apply-${src.dtype}`, source: () => fillHolesApplySource(src.dtype), bindings: [src, parent, count, out], bytes: n * 16, ...common },
  ];
}

/** Records the hole filling of `src` into `out` (see FillHolesArgs). */
export function fillHolesInto(gpu: Gpu, args: FillHolesArgs): GpuTensor {
  for (const p of fillHolesPrograms(args)) gpu.run(p);
  return args.out;
}
