// linear with packed weights (f16, bf16, int8, int4, and f32 under f16 activations): the GEMM's
// dequantizing weight-load seam against a CPU reference that decodes the same packed words
// (unpackMatrix) and multiplies in f64. Dequantization is exact in f32 (q·s is one rounding, as on
// the CPU), so f32-activation cases keep the f32 GEMM tolerance; f16-activation cases add the
// f16 rounding of the output (and of x, which the reference sees already rounded).
import { linear, linearProgram } from '../../src/kernels/matmul/matmul.js';
import { linearRef } from '../../src/kernels/matmul/matmul.ref.js';
import type { Activation } from '../../src/kernels/matmul/matmul.wgsl.js';
import { PackedWeight } from '../../src/kernels/packed-weight/packed-weight.js';
import type { DType } from '../../src/runtime/tensor.js';
import { packMatrix, unpackMatrix, type WeightFormat } from '../../src/weights/packed.js';
import { assertClose } from '../helpers/compare.js';
import { readAsF32, roundToF16, uploadAs } from '../helpers/f16.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';
import { gemmTolerance } from './linear.cases.js';

interface PackedCase {
  m: number;
  n: number;
  k: number;
  format: WeightFormat;
  groupSize?: number;
  method?: 'absmax' | 'mse';
  act?: Activation;
  dtype?: DType;
  residual?: boolean;
}

/** Rows of very different magnitude (per-row / per-group scales must really be per row / group). */
function weights(n: number, k: number, seed: number): Float32Array {
  const w = randomArray(n * k, seed, -1, 1);
  for (let i = 0; i < w.length; i++) w[i] *= 10 ** ((Math.floor(i / k) % 4) - 2);
  return w;
}

function packedCase(s: PackedCase): KernelCase {
  const dtype = s.dtype ?? 'f32';
  const name = `linear packed ${s.format}${s.groupSize ? `-g${s.groupSize}` : ''}${s.method === 'mse' ? '-mse' : ''} act=${dtype} ` +
    `M=${s.m} N=${s.n} K=${s.k}${s.act ? ` ${s.act}` : ''}${s.residual ? ' residual' : ''}`;
  return {
    name,
    async run(gpu) {
      if (dtype === 'f16' && !gpu.features.f16) return; // the adapter cannot store f16 (SwiftShader in Chromium)
      const { m, n, k } = s;
      const seed = m * 7 + n * 31 + k * 3;
      let x = randomArray(m * k, seed, -1, 1);
      let b = randomArray(n, seed + 2, -1, 1);
      let r = s.residual ? randomArray(m * n, seed + 3, -1, 1) : undefined;
      if (dtype === 'f16') [x, b, r] = [roundToF16(x), roundToF16(b), r && roundToF16(r)];
      const packed = packMatrix(weights(n, k, seed + 1), n, k, s.format, { groupSize: s.groupSize, method: s.method });
      const w = PackedWeight.upload(gpu, packed, [n, k], `w ${s.format}`);
      const tx = uploadAs(gpu, x, [m, k], dtype);
      const tb = uploadAs(gpu, b, [n], dtype);
      const tr = r && uploadAs(gpu, r, [m, n], dtype);
      const out = dtype === 'f16' ? uploadAs(gpu, nanArray(m * n), [m, n], 'f16') : gpu.upload(nanArray(m * n), [m, n]);
      const p = linearProgram(tx, w, tb, out, { act: s.act, residual: tr });
      if (!p.name.endsWith(`-w${s.format}`)) throw new Error(`${name}: program ${p.name} does not read the packed weight`);
      linear(gpu, tx, w, tb, { act: s.act, residual: tr }, out);
      const got = await readAsF32(gpu, out);
      const ref = linearRef(x, unpackMatrix(packed), b, m, n, k, { act: s.act, residual: r });
      const base = gemmTolerance(k);
      // f16 output: one rounding (2^-11 relative) of each value on top of the f32 accumulation.
      const tol = dtype === 'f16' ? { maxAbsRel: base.maxAbsRel! + 1e-3, relL2: base.relL2! + 6e-4 } : base;
      assertClose(name, got, ref, tol, [m, n]);
      for (const t of [tx, tb, tr, out]) t?.release();
      w.release();
    },
  };
}

/** Packed operands are refused where the seam cannot read them. */
const contractCase: KernelCase = {
  name: 'linear packed contract: shape and group checks',
  async run(gpu) {
    const x = gpu.empty([3, 64]);
    const out = gpu.empty([3, 5]);
    const w = PackedWeight.upload(gpu, packMatrix(randomArray(5 * 64, 1), 5, 64, 'int4', { groupSize: 32 }), [5, 64], 'w');
    const bad = [
      () => linearProgram(gpu.empty([3, 32]), w, undefined, out),
      () => PackedWeight.upload(gpu, packMatrix(randomArray(5 * 64, 1), 5, 64, 'int8'), [5, 32], 'w'),
    ];
    for (const f of bad) {
      let threw = false;
      try {
        f();
      } catch {
        threw = true;
      }
      if (!threw) throw new Error('a mismatched packed weight was accepted');
    }
    const p = linearProgram(x, w, undefined, out);
    if (p.name !== 'matmul-regblock-nk4-f32-wint4') throw new Error(`unexpected program ${p.name}`);
    for (const t of [x, out]) t.release();
    w.release();
  },
};

export const cases: KernelCase[] = [
  contractCase,
  // vec4 path (K % 4 == 0): every format, odd M and N
  packedCase({ m: 33, n: 63, k: 96, format: 'f16', act: 'gelu' }),
  packedCase({ m: 17, n: 29, k: 64, format: 'bf16', residual: true }),
  packedCase({ m: 33, n: 63, k: 96, format: 'int8', act: 'relu' }),
  packedCase({ m: 33, n: 65, k: 128, format: 'int4', groupSize: 32 }),
  packedCase({ m: 9, n: 37, k: 192, format: 'int4', groupSize: 64, act: 'gelu', residual: true }),
  packedCase({ m: 5, n: 17, k: 256, format: 'int4', groupSize: 128, method: 'mse' }),
  packedCase({ m: 21, n: 31, k: 64, format: 'int8', method: 'mse', residual: true }),
  // scalar path (K % 4 != 0): element-wise decoding across word and row boundaries
  packedCase({ m: 7, n: 13, k: 37, format: 'int8', act: 'gelu' }),
  packedCase({ m: 7, n: 13, k: 37, format: 'f16' }),
  packedCase({ m: 7, n: 13, k: 37, format: 'bf16', residual: true }),
  // f16 activations (f32 accumulation) reading packed weights, and f32 weights under f16 activations
  packedCase({ m: 33, n: 63, k: 96, format: 'int8', dtype: 'f16', act: 'gelu' }),
  packedCase({ m: 19, n: 41, k: 128, format: 'int4', groupSize: 64, dtype: 'f16', residual: true }),
  packedCase({ m: 19, n: 41, k: 64, format: 'f16', dtype: 'f16' }),
  packedCase({ m: 11, n: 9, k: 37, format: 'f32', dtype: 'f16', act: 'relu' }),
  packedCase({ m: 11, n: 9, k: 40, format: 'bf16', dtype: 'f16' }),
];
