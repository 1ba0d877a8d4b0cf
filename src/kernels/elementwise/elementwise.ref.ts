// CPU references (f64 accumulation) for the elementwise kernels.
import type { BinaryOp, UnaryOp } from './elementwise.wgsl.js';

export function erfRef(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for a reference; use a series / continued fraction in f64.
  const z = Math.abs(x);
  let r: number;
  if (z < 2.5) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 60; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc continued fraction (Lentz) for large z
    let f = z;
    let C = z;
    let D = 0;
    for (let n = 1; n < 200; n++) {
      const an = n / 2;
      D = z + an * D;
      D = 1 / D;
      C = z + an / C;
      const delta = C * D;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    r = 1 - Math.exp(-z * z) / (f * Math.sqrt(Math.PI));
  }
  return x < 0 ? -r : r;
}

export function geluRef(x: number): number {
  return 0.5 * x * (1 + erfRef(x / Math.SQRT2));
}

export const unaryRef: Record<UnaryOp, (v: number) => number> = {
  gelu: geluRef,
  relu: (v) => Math.max(v, 0),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  step: (v) => (v > 0 ? 1 : 0),
  identity: (v) => v,
};

export function binaryRef(op: BinaryOp, a: Float32Array, b: Float32Array, alpha = 1, beta = 0, gamma = 1): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = gamma * b[i % b.length];
    const v = op === 'add' ? x + y : op === 'sub' ? x - y : x * y;
    out[i] = alpha * v + beta;
  }
  return out;
}
