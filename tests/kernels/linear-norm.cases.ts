// linear with the LayerNorm prologue (GemmSpec.normA): act(LN(x)·Wᵀ + b) + residual with the row
// statistics computed inside the GEMM, against LayerNorm then Linear in f64. LN's output is O(1)
// and its f32 error is a few ulp, so the GEMM tolerance applies, doubled for the normalization.
// Cases cover the vec4 and scalar kernels, odd M/N/K, rows with a large common offset (the shifted
// statistics must not lose them), constant rows (zero variance), packed and f16 operands, and the
// unfused fallback where the adapter's GEMM variant has no prologue.
import { linear, linearProgram } from '../../src/kernels/matmul/matmul.js';
import { linearRef } from '../../src/kernels/matmul/matmul.ref.js';
import type { Activation } from '../../src/kernels/matmul/matmul.wgsl.js';
import { layerNormRef } from '../../src/kernels/layer-norm/layer-norm.ref.js';
import { PackedWeight } from '../../src/kernels/packed-weight/packed-weight.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { GpuTensor, type DType } from '../../src/runtime/tensor.js';
import { packMatrix, unpackMatrix, type WeightFormat } from '../../src/weights/packed.js';
import { assertClose } from '../helpers/compare.js';
import { readAsF32, roundToF16, uploadAs } from '../helpers/f16.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';
import { gemmTolerance } from './linear.cases.js';

interface NormSpec {
  m: number;
  k: number;
  n: number;
  bias?: boolean;
  act?: Activation;
  residual?: 'separate' | 'in-place';
  /** Added to every x (rows far from zero relative to their spread). */
  offset?: number;
  /** Make these rows constant (zero variance). */
  constantRows?: number[];
  packed?: WeightFormat;
  dtype?: DType;
  /** Run with this GEMM variant forced (the GPU-class ones have no prologue: LN + GEMM instead). */
  force?: string;
}

function normCase(s: NormSpec): KernelCase {
  const dtype = s.dtype ?? 'f32';
  const name =
    `linear+LN M=${s.m} K=${s.k} N=${s.n}${s.bias ? ' bias' : ''} act=${s.act ?? 'none'}` +
    `${s.residual ? ` residual=${s.residual}` : ''}${s.offset ? ` offset=${s.offset}` : ''}` +
    `${s.constantRows ? ' constant rows' : ''}${s.packed ? ` w=${s.packed}` : ''} ${dtype}${s.force ? ` forced ${s.force}` : ''}`;
  return {
    name,
    async run(gpu) {
      if (dtype === 'f16' && !gpu.features.f16) return; // no f16 storage here (SwiftShader in Chromium)
      const { m, k, n } = s;
      const seed = m * 5 + k * 97 + n * 13;
      let x = randomArray(m * k, seed, -1, 1);
      for (let i = 0; i < x.length; i++) x[i] = x[i] * (1 + (Math.floor(i / k) % 3)) + (s.offset ?? 0);
      for (const r of s.constantRows ?? []) x.fill(0.375 + (s.offset ?? 0), r * k, (r + 1) * k);
      let g = randomArray(k, seed + 4, 0.5, 1.5);
      let beta = randomArray(k, seed + 5, -0.5, 0.5);
      let b = s.bias ? randomArray(n, seed + 2, -1, 1) : undefined;
      let r = s.residual ? randomArray(m * n, seed + 3, -2, 2) : undefined;
      if (dtype === 'f16') [x, g, beta, b, r] = [roundToF16(x), roundToF16(g), roundToF16(beta), b && roundToF16(b), r && roundToF16(r)];
      let w = randomArray(n * k, seed + 1, -1, 1);
      const packed = s.packed ? packMatrix(w, n, k, s.packed) : undefined;
      if (packed) w = unpackMatrix(packed);
      else if (dtype === 'f16') w = roundToF16(w);

      const tx = uploadAs(gpu, x, [m, k], dtype);
      const tw = packed ? PackedWeight.upload(gpu, packed, [n, k], 'w') : uploadAs(gpu, w, [n, k], dtype);
      const tg = uploadAs(gpu, g, [k], dtype);
      const tbeta = uploadAs(gpu, beta, [k], dtype);
      const tb = b && uploadAs(gpu, b, [n], dtype);
      // In place: the output starts as the residual; otherwise it is poisoned with NaN.
      const out = uploadAs(gpu, s.residual === 'in-place' ? r! : nanArray(m * n), [m, n], dtype);
      const tr = s.residual === 'separate' ? uploadAs(gpu, r!, [m, n], dtype) : s.residual === 'in-place' ? out : undefined;
      const norm = { weight: tg, bias: tbeta, eps: 1e-6 };
      const opts = { act: s.act, residual: tr, norm };
      const p = linearProgram(tx, tw, tb, out, opts);
      if (!p.name.includes('-ln-')) throw new Error(`${name}: program ${p.name} has no LayerNorm prologue`);
      await withForced(gpu, s.force, () => linear(gpu, tx, tw, tb, opts, out));
      const got = await readAsF32(gpu, out);

      const xn = layerNormRef(x, g, beta, m, k, 1e-6);
      const ref = linearRef(xn, w, b, m, n, k, { act: s.act, residual: r });
      const base = gemmTolerance(k);
      const tol = dtype === 'f16'
        ? { maxAbsRel: 2 * base.maxAbsRel! + 2e-3, relL2: 2 * base.relL2! + 1e-3 }
        : { maxAbsRel: 2 * base.maxAbsRel!, relL2: 2 * base.relL2! };
      assertClose(name, got, ref, tol, [m, n]);
      for (const t of [tx, tg, tbeta, tb, tr, out]) t?.release();
      tw.release();
    },
  };
}

/** Runs `fn` with the GEMM variant forced (when given), then restores the selector. */
async function withForced(gpu: Gpu, variant: string | undefined, fn: () => void): Promise<void> {
  if (!variant) return fn();
  const before = gpu.kernels.forced('matmul');
  const used = gpu.kernels.usage.get(variant) ?? 0;
  const lnBefore = gpu.kernels.usage.get('matmul-regblock') ?? 0;
  gpu.kernels.setForced('matmul', variant);
  try {
    fn();
  } finally {
    gpu.kernels.setForced('matmul', before);
  }
  if ((gpu.kernels.usage.get(variant) ?? 0) !== used + 1) throw new Error(`forced ${variant} did not run the product`);
  if ((gpu.kernels.usage.get('matmul-regblock') ?? 0) !== lnBefore) throw new Error(`forced ${variant}: the prologue moved the product to matmul-regblock`);
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
  name: 'linear+LN contract: parameter shapes, dtypes, eps, aliasing',
  async run(gpu) {
    const x = gpu.empty([5, 8]);
    const w = gpu.empty([3, 8]);
    const out = gpu.empty([5, 3]);
    const g = gpu.empty([8]);
    const b = gpu.empty([8]);
    expectThrow(() => linearProgram(x, w, undefined, out, { norm: { weight: gpu.empty([7]), bias: b, eps: 1e-6 } }), 'do not match K=8');
    expectThrow(() => linearProgram(x, w, undefined, out, { norm: { weight: g, bias: b, eps: 0 } }), 'eps must be positive');
    expectThrow(() => linearProgram(x, w, undefined, out, { norm: { weight: g, bias: new GpuTensor(out.buffer, [8]), eps: 1e-6 } }), 'out aliases input norm bias');
    expectThrow(() => linearProgram(x, w, undefined, out, { norm: { weight: gpu.empty([8], 'f16'), bias: b, eps: 1e-6 } }), 'must be f32 like a');
    for (const t of [x, w, out, g, b]) t.release();
  },
};

export const cases: KernelCase[] = [
  contractCase,
  // vec4 kernel (K % 4 == 0): odd M and N, every epilogue option.
  normCase({ m: 37, k: 96, n: 63, bias: true, act: 'gelu', residual: 'separate' }),
  normCase({ m: 1, k: 8, n: 5 }),
  normCase({ m: 53, k: 64, n: 19, bias: true, residual: 'in-place', offset: 300, constantRows: [0, 17, 52] }),
  // scalar kernel (odd K).
  normCase({ m: 29, k: 30, n: 13, bias: true, act: 'relu' }),
  normCase({ m: 18, k: 7, n: 9, residual: 'separate', offset: -50, constantRows: [3] }),
  // packed weights and f16 activations.
  normCase({ m: 21, k: 64, n: 11, bias: true, packed: 'int8' }),
  normCase({ m: 19, k: 40, n: 7, packed: 'f16' }),
  normCase({ m: 23, k: 48, n: 17, bias: true, act: 'gelu', dtype: 'f16' }),
  // A variant without the prologue keeps the product: LayerNorm then the GEMM.
  normCase({ m: 33, k: 32, n: 24, bias: true, residual: 'separate', force: 'matmul-tiled' }),
];
