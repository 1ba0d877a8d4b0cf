// Batched matmul: out [B, M, N] = a [B|1, M, K] · b [B|1, K, N] (or b [B|1, N, K]ᵀ with transB).
// Same tolerance as linear (f32 accumulation over K vs f64): max_abs ≤ 4e-7·sqrt(K)·max|ref|,
// rel_l2 ≤ 4e-7·sqrt(K).
import { matmul } from '../../src/kernels/matmul/matmul.js';
import { matmulRef } from '../../src/kernels/matmul/matmul.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';
import { gemmTolerance } from './linear.cases.js';

interface MatmulSpec {
  /** 0 = a 2-D operand (no batch axis). */
  batchA: number;
  batchB: number;
  m: number;
  k: number;
  n: number;
  transB?: boolean;
}

function matmulCase(s: MatmulSpec): KernelCase {
  const { m, k, n, transB } = s;
  const ba = Math.max(1, s.batchA);
  const bb = Math.max(1, s.batchB);
  const batch = Math.max(ba, bb);
  const aShape = s.batchA ? [s.batchA, m, k] : [m, k];
  const bInner = transB ? [n, k] : [k, n];
  const bShape = s.batchB ? [s.batchB, ...bInner] : bInner;
  const name = `matmul a=[${aShape}] b=[${bShape}]${transB ? ' transB' : ''}`;
  return {
    name,
    async run(gpu) {
      const seed = m * 3 + k * 101 + n * 7 + ba * 1000 + bb * 5000 + (transB ? 1 : 0);
      const a = randomArray(ba * m * k, seed, -1, 1);
      const b = randomArray(bb * k * n, seed + 1, -1, 1);
      const ta = gpu.upload(a, aShape);
      const tb = gpu.upload(b, bShape);
      const outShape = s.batchA || s.batchB ? [batch, m, n] : [m, n];
      const out = gpu.upload(nanArray(batch * m * n), outShape);
      const got = matmul(gpu, ta, tb, { transB }, out);
      const ref = matmulRef(a, b, { batchA: ba, batchB: bb, m, n, k, transB });
      assertClose(name, await gpu.read(got), ref, gemmTolerance(k), outShape);
      [ta, tb, out].forEach((t) => t.release());
    },
  };
}

export const cases: KernelCase[] = [
  // scalar path: K or N not a multiple of 4
  matmulCase({ batchA: 3, batchB: 3, m: 7, k: 17, n: 5 }),
  matmulCase({ batchA: 2, batchB: 1, m: 33, k: 96, n: 63 }),
  matmulCase({ batchA: 1, batchB: 3, m: 5, k: 17, n: 9, transB: true }),
  // vec4 [K, N] path, with a broadcast a and 2-D operands
  matmulCase({ batchA: 0, batchB: 0, m: 257, k: 64, n: 132 }),
  matmulCase({ batchA: 1, batchB: 2, m: 17, k: 12, n: 20 }),
  // hypernetwork mask product: [4, 32] · [32, H·W] at 256² (low-res masks of a 1024 px image)
  matmulCase({ batchA: 0, batchB: 0, m: 4, k: 32, n: 65536 }),
  // vec4 [N, K] path (transB): attention-style q·kᵀ per head
  matmulCase({ batchA: 4, batchB: 4, m: 65, k: 32, n: 70, transB: true }),
  matmulCase({ batchA: 2, batchB: 0, m: 1, k: 4, n: 1, transB: true }),
];
