// Launcher for the generic softmax over the last axis (torch.softmax(x * scale, dim=-1)).
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { softmaxSource } from './softmax.wgsl.js';

const WG = 64;

/** out = softmax(scale · x) over the last axis of x (any leading dims). */
export function softmaxProgram(x: GpuTensor, out: GpuTensor, scale = 1): KernelProgram {
  const name = `softmax-rowwise-${x.dtype}`;
  check(x.dtype === 'f32' || x.dtype === 'f16', name, `unsupported dtype ${x.dtype}`);
  check(x.shape.length >= 1 && x.shape[x.shape.length - 1] > 0, name, `x ${shapeStr(x.shape)} has no non-empty last axis`);
  check(out.size === x.size && out.dtype === x.dtype, name, `out ${shapeStr(out.shape)} ${out.dtype} does not match x ${shapeStr(x.shape)} ${x.dtype}`);
  check(x.buffer !== out.buffer, name, 'out aliases x (in-place softmax is not supported)');
  check(Number.isFinite(scale), name, `scale must be finite, got ${scale}`);
  const cols = x.shape[x.shape.length - 1];
  const rows = x.size / cols;
  return {
    name,
    source: () => softmaxSource(x.dtype),
    constants: { WG },
    bindings: [x, out],
    uniforms: uniforms([['u32', rows], ['u32', cols], ['f32', scale], ['u32', 0]]),
    workgroups: dispatch1d(rows, WG),
    flops: 5 * x.size,
    bytes: (x.dtype === 'f16' ? 2 : 4) * 5 * x.size,
  };
}

export function softmax(gpu: Gpu, x: GpuTensor, scale = 1, out?: GpuTensor): GpuTensor {
  const o = out ?? gpu.empty(x.shape, x.dtype, 'softmax');
  gpu.run(softmaxProgram(x, o, scale));
  return o;
}
