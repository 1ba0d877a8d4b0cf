import { binary, unary } from '../../src/kernels/elementwise/elementwise.js';
import { binaryRef, unaryRef } from '../../src/kernels/elementwise/elementwise.ref.js';
import type { UnaryOp } from '../../src/kernels/elementwise/elementwise.wgsl.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

const binaryCase = (n: number, nb: number, op: 'add' | 'sub' | 'mul', gamma = 1): KernelCase => ({
  name: `${op} n=${n} broadcast=${nb}${gamma !== 1 ? ` b scaled by ${gamma}` : ''}`,
  async run(gpu) {
    const a = randomArray(n, n + 1, -3, 3);
    const b = randomArray(nb, nb + 7, -2, 2);
    const ta = gpu.upload(a, [n]);
    const tb = gpu.upload(b, [nb]);
    const out = gpu.upload(nanArray(n), [n]);
    binary(gpu, op, ta, tb, out, 0.5, 0.25, gamma);
    assertClose(`${op}`, await gpu.read(out), binaryRef(op, a, b, 0.5, 0.25, gamma), { atol: 1e-6, rtol: 1e-6 });
    [ta, tb, out].forEach((t) => t.release());
  },
});

const unaryCase = (n: number, op: UnaryOp, postScale = 1, postBias = 0): KernelCase => ({
  name: `${op} n=${n}${postScale !== 1 || postBias !== 0 ? ` then *${postScale}+${postBias}` : ''}`,
  async run(gpu) {
    const a = randomArray(n, n + 3, -6, 6);
    const ta = gpu.upload(a, [n]);
    const out = gpu.upload(nanArray(n), [n]);
    unary(gpu, op, ta, out, 1, 0, { postScale, postBias });
    const ref = Float64Array.from(a, (v) => postScale * unaryRef[op](v) + postBias);
    assertClose(op, await gpu.read(out), ref, { atol: 2e-6, rtol: 2e-6 });
    [ta, out].forEach((t) => t.release());
  },
});

export const cases: KernelCase[] = [
  binaryCase(1, 1, 'add'),
  binaryCase(1000, 1000, 'add'),
  binaryCase(777 * 13, 13, 'add'),
  binaryCase(4099, 1, 'mul'),
  binaryCase(300, 300, 'sub'),
  binaryCase(1031, 1031, 'add', 0.1),
  unaryCase(5000, 'gelu'),
  unaryCase(513, 'relu'),
  unaryCase(1023, 'sigmoid'),
  unaryCase(1023, 'sigmoid', 20, -10),
  unaryCase(777, 'step', 20, -10),
];
