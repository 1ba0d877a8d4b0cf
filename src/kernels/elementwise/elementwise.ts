// Launchers for elementwise ops. Pure program builders plus allocating conveniences.
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { uniforms } from '../../runtime/uniforms.js';
import { binarySource, unarySource, type BinaryOp, type UnaryOp } from './elementwise.wgsl.js';

const WG = 256;

/** out = alpha * (a op gamma*b) + beta, with b broadcast if its size divides a's (trailing-dims broadcast). */
export function binaryProgram(op: BinaryOp, a: GpuTensor, b: GpuTensor, out: GpuTensor, alpha = 1, beta = 0, gamma = 1): KernelProgram {
  const name = `elementwise-${op}-${a.dtype}`;
  check(a.dtype === b.dtype && a.dtype === out.dtype, name, 'dtypes differ');
  check(out.size === a.size, name, `out ${shapeStr(out.shape)} does not match a ${shapeStr(a.shape)}`);
  check(b.size > 0 && a.size % b.size === 0, name, `b ${shapeStr(b.shape)} does not broadcast onto a ${shapeStr(a.shape)}`);
  return {
    name,
    source: () => binarySource(op, a.dtype),
    constants: { WG },
    bindings: [a, b, out],
    uniforms: uniforms([
      ['u32', a.size], ['u32', b.size], ['f32', alpha], ['f32', beta],
      ['f32', gamma], ['u32', 0], ['u32', 0], ['u32', 0],
    ]),
    workgroups: dispatch1d(a.size, WG),
    bytes: (a.size * 2 + b.size) * 4,
  };
}

/** Affine maps around a unary op: out = post.scale * f(pre.scale * a + pre.bias) + post.bias. */
export interface UnaryAffine {
  alpha?: number;
  beta?: number;
  postScale?: number;
  postBias?: number;
}

/** out = postScale * f(alpha * a + beta) + postBias. */
export function unaryProgram(op: UnaryOp, a: GpuTensor, out: GpuTensor, alpha = 1, beta = 0, postScale = 1, postBias = 0): KernelProgram {
  const name = `elementwise-${op}-${a.dtype}`;
  check(out.size === a.size && out.dtype === a.dtype, name, 'out does not match a');
  return {
    name,
    source: () => unarySource(op, a.dtype),
    constants: { WG },
    bindings: [a, out],
    uniforms: uniforms([
      ['u32', a.size], ['f32', alpha], ['f32', beta], ['f32', postScale],
      ['f32', postBias], ['u32', 0], ['u32', 0], ['u32', 0],
    ]),
    workgroups: dispatch1d(a.size, WG),
    bytes: a.size * 8,
  };
}

export function binary(gpu: Gpu, op: BinaryOp, a: GpuTensor, b: GpuTensor, out?: GpuTensor, alpha = 1, beta = 0, gamma = 1): GpuTensor {
  const o = out ?? gpu.empty(a.shape, a.dtype, op);
  gpu.run(binaryProgram(op, a, b, o, alpha, beta, gamma));
  return o;
}

export function unary(gpu: Gpu, op: UnaryOp, a: GpuTensor, out?: GpuTensor, alpha = 1, beta = 0, affine: UnaryAffine = {}): GpuTensor {
  const o = out ?? gpu.empty(a.shape, a.dtype, op);
  gpu.run(unaryProgram(op, a, o, alpha, beta, affine.postScale ?? 1, affine.postBias ?? 0));
  return o;
}
