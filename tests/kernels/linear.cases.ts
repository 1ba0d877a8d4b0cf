// linear: out = alpha · act(x·Wᵀ + b) + residual on the register-blocked GEMM.
// Tolerance: f32 accumulation over K terms against an f64 reference. Rounding errors grow like
// sqrt(K)·eps_f32 relative to the typical |x·w| sum, so every case checks
//   max_abs ≤ 4e-7·sqrt(K)·max|ref|   and   rel_l2 ≤ 4e-7·sqrt(K)
// (eps_f32 = 1.19e-7; measured errors sit 3–10× below these bounds).
import { gemmWorkgroups, linear, linearProgram } from '../../src/kernels/matmul/matmul.js';
import { linearRef } from '../../src/kernels/matmul/matmul.ref.js';
import type { Activation } from '../../src/kernels/matmul/matmul.wgsl.js';
import { GpuTensor } from '../../src/runtime/tensor.js';
import { assertClose, type Tolerance } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

export const gemmTolerance = (k: number): Tolerance => ({
  maxAbsRel: 4e-7 * Math.sqrt(k),
  relL2: 4e-7 * Math.sqrt(k),
});

interface LinearSpec {
  /** x shape; the last dim is K. */
  xShape: number[];
  n: number;
  bias?: boolean;
  act?: Activation;
  residual?: 'separate' | 'in-place';
  alpha?: number;
  /** Check only these rows against the reference (big shapes keep the f64 reference cheap). */
  sampleRows?: number;
}

function linearCase(s: LinearSpec): KernelCase {
  const k = s.xShape[s.xShape.length - 1];
  const m = s.xShape.slice(0, -1).reduce((p, d) => p * d, 1);
  const { n } = s;
  const name =
    `linear x=[${s.xShape}] N=${n}${s.bias ? ' bias' : ''} act=${s.act ?? 'none'}` +
    `${s.residual ? ` residual=${s.residual}` : ''}${s.alpha !== undefined ? ` alpha=${s.alpha}` : ''}`;
  return {
    name,
    async run(gpu) {
      const seed = m * 7 + k * 131 + n * 17;
      const x = randomArray(m * k, seed, -1, 1);
      const w = randomArray(n * k, seed + 1, -1, 1);
      const b = s.bias ? randomArray(n, seed + 2, -1, 1) : undefined;
      const r = s.residual ? randomArray(m * n, seed + 3, -2, 2) : undefined;
      const tx = gpu.upload(x, s.xShape);
      const tw = gpu.upload(w, [n, k]);
      const tb = b && gpu.upload(b, [n]);
      const outShape = [...s.xShape.slice(0, -1), n];
      // In place: the output starts as the residual; otherwise it is poisoned with NaN.
      const out = gpu.upload(s.residual === 'in-place' ? r! : nanArray(m * n), outShape);
      const tr = s.residual === 'separate' ? gpu.upload(r!, outShape) : s.residual === 'in-place' ? out : undefined;
      linear(gpu, tx, tw, tb, { act: s.act, residual: tr, alpha: s.alpha }, out);
      const got = await gpu.read(out);

      const rows = s.sampleRows ? sampledRows(m, s.sampleRows) : Array.from({ length: m }, (_, i) => i);
      const xs = new Float32Array(rows.length * k);
      const rs = r && new Float32Array(rows.length * n);
      const gs = new Float32Array(rows.length * n);
      rows.forEach((row, i) => {
        xs.set(x.subarray(row * k, (row + 1) * k), i * k);
        rs?.set(r!.subarray(row * n, (row + 1) * n), i * n);
        gs.set(got.subarray(row * n, (row + 1) * n), i * n);
      });
      const ref = linearRef(xs, w, b, rows.length, n, k, { act: s.act, alpha: s.alpha, residual: rs });
      assertClose(name, gs, ref, gemmTolerance(k), [rows.length, n]);
      for (const t of [tx, tw, tb, tr, out]) t?.release();
    },
  };
}

/** `count` rows spread over [0, m), always including the first and the last. */
function sampledRows(m: number, count: number): number[] {
  const step = Math.max(1, Math.floor(m / count));
  const rows: number[] = [];
  for (let i = 0; i < m; i += step) rows.push(i);
  if (rows[rows.length - 1] !== m - 1) rows.push(m - 1);
  return rows;
}

/** Throws unless `fn` throws an Error whose message contains `part`. */
function expectThrow(fn: () => unknown, part: string): void {
  try {
    fn();
  } catch (e) {
    if ((e as Error).message.includes(part)) return;
    throw new Error(`expected an error containing "${part}", got: ${(e as Error).message}`);
  }
  throw new Error(`expected an error containing "${part}", nothing was thrown`);
}

const contractCase: KernelCase = {
  name: 'linear contract: shape errors, aliasing, program variants and dispatch',
  async run(gpu) {
    const x = gpu.empty([5, 8]);
    const w = gpu.empty([3, 8]);
    const wOdd = gpu.empty([3, 7]);
    const out = gpu.empty([5, 3]);
    expectThrow(() => linearProgram(x, wOdd, undefined, out), 'x [5, 8] has 8 features but W [3, 7] expects 7');
    expectThrow(() => linearProgram(x, w, gpu.empty([4]), out), 'bias [4] does not match 3 outputs');
    expectThrow(() => linearProgram(x, w, undefined, gpu.empty([5, 4])), 'does not hold 1×5×3 results');
    expectThrow(() => linearProgram(x, w, undefined, new GpuTensor(x.buffer, [5, 3])), 'out aliases input a');
    const p = linearProgram(x, w, undefined, out, { act: 'gelu' });
    if (p.name !== 'matmul-regblock-nk4-f32') throw new Error(`K % 4 == 0 should pick the vec4 kernel, got ${p.name}`);
    if (p.flops !== 2 * 5 * 3 * 8) throw new Error(`flops ${p.flops}`);
    const wg = gemmWorkgroups(1, 65535 * 16 + 5, 3);
    if (wg.join() !== '1,32768,2') throw new Error(`fold of 65 536 row blocks gave ${wg}`);
    for (const t of [x, w, wOdd, out]) t.release();
  },
};

export const cases: KernelCase[] = [
  contractCase,
  // scalar path (K % 4 != 0)
  linearCase({ xShape: [1, 3], n: 1 }),
  linearCase({ xShape: [7, 17], n: 5, bias: true, act: 'relu' }),
  linearCase({ xShape: [257, 130], n: 129, bias: true, act: 'gelu', residual: 'separate' }),
  // vec4 path (K % 4 == 0), odd M and N
  linearCase({ xShape: [33, 96], n: 63, bias: true, act: 'gelu' }),
  linearCase({ xShape: [1, 96], n: 5, bias: true }),
  linearCase({ xShape: [33, 96], n: 129, residual: 'in-place', alpha: 0.5 }),
  linearCase({ xShape: [2, 17, 3, 20], n: 65, bias: true, act: 'relu', residual: 'separate' }),
  // decoder MLP (tiny M) and a memory-attention MLP
  linearCase({ xShape: [9, 256], n: 2048, bias: true, act: 'relu' }),
  linearCase({ xShape: [1025, 256], n: 2048, bias: true, act: 'relu', sampleRows: 40 }),
  // Hiera-B+ qkv at 1024 px stage 2 (M=4096, K=384 would be hiera-s; same kernel)
  linearCase({ xShape: [4096, 384], n: 1152, bias: true, sampleRows: 48 }),
  // more than 65 535 row blocks: the (y, z) workgroup fold
  linearCase({ xShape: [65535 * 16 + 5, 4], n: 3, bias: true, sampleRows: 64 }),
];
