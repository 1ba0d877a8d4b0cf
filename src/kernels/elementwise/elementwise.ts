// Launchers for elementwise ops. Pure program builders plus allocating conveniences.
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { uniforms } from '../../runtime/uniforms.js';
import { binarySource, unarySource, type BinaryOp, type UnaryOp } from './elementwise.wgsl.js';

const WG = 256;

/** out = alpha * (a op b) + beta, with b broadcast if its size divides a's (trailing-dims broadcast). */
export function binaryProgram(op: BinaryOp, a: GpuTensor, b: GpuTensor, out: GpuTensor, alpha = 1, beta = 0): KernelProgram {
  const name = `elementwise-${op}-${a.dtype}`;
  check(a.dtype === b.dtype && a.dtype === out.dtype, name, 'dtypes differ');
  check(out.size === a.size, name, `out ${shapeStr(out.shape)} does not match a ${shapeStr(a.shape)}`);
  check(b.size > 0 && a.size % b.size === 0, name, `b ${shapeStr(b.shape)} does not broadcast onto a ${shapeStr(a.shape)}`);
  return {
    name,
    source: () => binarySource(op, a.dtype),
    constants: { WG },
    bindings: [a, b, out],
    uniforms: uniforms([['u32', a.size], ['u32', b.size], ['f32', alpha], ['f32', beta]]),
    workgroups: dispatch1d(a.size, WG),
    bytes: (a.size * 2 + b.size) * 4,
  };
}

/** out = f(alpha * a + beta). */
export function unaryProgram(op: UnaryOp, a: GpuTensor, out: GpuTensor, alpha = 1, beta = 0): KernelProgram {
  const name = `elementwise-${op}-${a.dtype}`;
  check(out.size === a.size && out.dtype === a.dtype, name, 'out does not match a');
  return {
    name,
    source: () => unarySource(op, a.dtype),
    constants: { WG },
    bindings: [a, out],
    uniforms: uniforms([['u32', a.size], ['f32', alpha], ['f32', beta], ['u32', 0]]),
    workgroups: dispatch1d(a.size, WG),
    bytes: a.size * 8,
  };
}

export function binary(gpu: Gpu, op: BinaryOp, a: GpuTensor, b: GpuTensor, out?: GpuTensor, alpha = 1, beta = 0): GpuTensor {
  const o = out ?? gpu.empty(a.shape, a.dtype, op);
  gpu.run(binaryProgram(op, a, b, o, alpha, beta));
  return o;
}

export function unary(gpu: Gpu, op: UnaryOp, a: GpuTensor, out?: GpuTensor, alpha = 1, beta = 0): GpuTensor {
  const o = out ?? gpu.empty(a.shape, a.dtype, op);
  gpu.run(unaryProgram(op, a, o, alpha, beta));
  return o;
}
