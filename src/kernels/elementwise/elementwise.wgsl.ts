// Elementwise kernels: out[i] = f(a[i], b[i mod nb]) where b may broadcast along the leading dims
// (a row vector added to every token, a scalar), and unary activations.
import { ERF_GELU, header, perElementMain } from '../wgsl.js';
import type { DType } from '../../runtime/tensor.js';

export type BinaryOp = 'add' | 'sub' | 'mul';
export type UnaryOp = 'gelu' | 'relu' | 'sigmoid' | 'step' | 'identity';

const BINARY_EXPR: Record<BinaryOp, string> = { add: 'x + y', sub: 'x - y', mul: 'x * y' };
export const UNARY_EXPR: Record<UnaryOp, string> = {
  gelu: 'gelu_erf(v)',
  relu: 'max(v, 0.0)',
  sigmoid: '1.0 / (1.0 + exp(-v))',
  step: 'select(0.0, 1.0, v > 0.0)',
  identity: 'v',
};

export function binarySource(op: BinaryOp, dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { n: u32, nb: u32, alpha: f32, beta: f32, gamma: f32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<storage, read> a: array<T>;
@group(0) @binding(1) var<storage, read> b: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;
@group(0) @binding(3) var<uniform> p: Params;
override WG: u32 = 256;

// out = alpha * (a op gamma*b) + beta; b is indexed modulo its length (broadcast over leading dims).
fn element(i: u32) {
  let x = f32(a[i]);
  let y = p.gamma * f32(b[i % p.nb]);
  out[i] = T(p.alpha * (${BINARY_EXPR[op]}) + p.beta);
}
${perElementMain('p.n')}`;
}

export function unarySource(op: UnaryOp, dtype: DType): string {
  return /* wgsl */ `${header(dtype)}
struct Params { n: u32, alpha: f32, beta: f32, post_scale: f32, post_bias: f32, _p0: u32, _p1: u32, _p2: u32 }
@group(0) @binding(0) var<storage, read> a: array<T>;
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<uniform> p: Params;
override WG: u32 = 256;
${ERF_GELU}
// out = post_scale * f(alpha * a + beta) + post_bias
fn element(i: u32) {
  let v = p.alpha * f32(a[i]) + p.beta;
  out[i] = T(p.post_scale * (${UNARY_EXPR[op]}) + p.post_bias);
}
${perElementMain('p.n')}`;
}
