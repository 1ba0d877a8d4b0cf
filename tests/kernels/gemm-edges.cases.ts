// GEMM cases for the GPU-class variants: sizes just below and above tile multiples (the tiled
// variant's 16/32/64/128-row and 32/64-column tiles, TK 16/32, the subgroup variant's 4/8-row
// blocks), K not a multiple of 4 (scalar loads) and N odd, batch broadcast on either side, every
// epilogue, and the storage types: f32, f16 weights with f32 activations, and all-f16.
//
// Tolerances. f32: as linear.cases.ts (f32 accumulation over K vs f64): max_abs and rel_l2 ≤
// 4e-7·sqrt(K). f16 inputs are rounded on the host first and the f64 reference uses the rounded
// values, so storage rounding of the inputs is not an error of the kernel; the kernel still
// accumulates in f32 (same bound) and, when the output is f16, rounds each result once, which
// adds at most 2^-11 relative (half an ulp): max_abs ≤ (2^-11 + 4e-7·sqrt(K))·max|ref|, and rel_l2
// ≤ 2^-11 = 4.9e-4 (measured on lavapipe, all-f16: rel_l2 1.8–2.1e-4, max_abs 1.9–2.5e-4·max|ref|;
// f16 weights with f32 out: ≈ 1e-7, i.e. plain f32). Against the unrounded f32 inputs, which is
// what f16 storage costs a model, rel_l2 measured 1.5–2.0e-4 with f16 weights and 3.0–3.4e-4
// all-f16 at K = 64..200; the f16 cases assert ≤ 1e-3 there (each input rounded by ≤ 2^-11
// relative, products of random sign).
import { float16ToFloat32Array, float32ToFloat16Array } from '../../src/io/half.js';
import { linear, matmul } from '../../src/kernels/matmul/matmul.js';
import { gemmRef } from '../../src/kernels/matmul/matmul.ref.js';
import type { Activation } from '../../src/kernels/matmul/matmul.wgsl.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { DType, GpuTensor } from '../../src/runtime/tensor.js';
import { assertClose, compareArrays, type Tolerance } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';
import { gemmTolerance } from './linear.cases.js';

const HALF_ULP = 2 ** -11;

export interface GemmCaseSpec {
  /** 'linear' (W [N, K], epilogue) or a batched matmul with B [K, N] ('kn') or [N, K] ('nk'). */
  kind: 'linear' | 'kn' | 'nk';
  m: number;
  k: number;
  n: number;
  /** matmul only: batch of a / b (1 broadcasts). */
  batchA?: number;
  batchB?: number;
  bias?: boolean;
  act?: Activation;
  residual?: 'separate' | 'in-place';
  alpha?: number;
  /** Storage of a, bias, residual, out (default f32). */
  actDtype?: DType;
  /** Storage of B (default f32). */
  weightDtype?: DType;
}

/** Rounds to f16 where the storage is f16 (the reference then sees exactly what the GPU reads). */
function stored(x: Float32Array, dtype: DType): Float32Array {
  return dtype === 'f16' ? float16ToFloat32Array(float32ToFloat16Array(x)) : x;
}

function upload(gpu: Gpu, x: Float32Array, shape: number[], dtype: DType): GpuTensor {
  return dtype === 'f16' ? gpu.upload(float32ToFloat16Array(x), shape, 'f16') : gpu.upload(x, shape);
}

async function readAsF32(gpu: Gpu, t: GpuTensor): Promise<Float32Array> {
  return t.dtype === 'f16' ? float16ToFloat32Array(new Uint16Array(await gpu.readRaw(t))) : gpu.read(t);
}

export function gemmCaseName(s: GemmCaseSpec): string {
  const batch = s.kind === 'linear' ? '' : ` batch ${s.batchA ?? 1}x${s.batchB ?? 1}`;
  const dt = `${s.actDtype ?? 'f32'}${(s.weightDtype ?? 'f32') !== (s.actDtype ?? 'f32') ? `/w${s.weightDtype}` : ''}`;
  return `gemm ${s.kind} M=${s.m} K=${s.k} N=${s.n}${batch}${s.bias ? ' bias' : ''}${s.act && s.act !== 'none' ? ` ${s.act}` : ''}` +
    `${s.residual ? ` residual=${s.residual}` : ''}${s.alpha !== undefined ? ` alpha=${s.alpha}` : ''} ${dt}`;
}

export function gemmCase(s: GemmCaseSpec): KernelCase {
  const name = gemmCaseName(s);
  const act = s.actDtype ?? 'f32';
  const wdt = s.weightDtype ?? 'f32';
  return {
    name,
    async run(gpu) {
      const { m, k, n } = s;
      const linearKind = s.kind === 'linear';
      const ba = linearKind ? 1 : (s.batchA ?? 1);
      const bb = linearKind ? 1 : (s.batchB ?? 1);
      const batch = Math.max(ba, bb);
      const seed = m * 13 + k * 101 + n * 7 + ba * 1009 + bb * 4001 + (s.kind === 'kn' ? 3 : 0);
      const x32 = randomArray(ba * m * k, seed, -1, 1);
      const w32 = randomArray(bb * n * k, seed + 1, -1, 1);
      const b32 = s.bias ? randomArray(n, seed + 2, -1, 1) : undefined;
      const r32 = s.residual ? randomArray(batch * m * n, seed + 3, -2, 2) : undefined;
      const [x, w, b, r] = [stored(x32, act), stored(w32, wdt), b32 && stored(b32, act), r32 && stored(r32, act)];

      const aShape = linearKind ? [m, k] : [ba, m, k];
      const bShape = linearKind || s.kind === 'nk' ? [n, k] : [k, n];
      const tx = upload(gpu, x, aShape, act);
      const tw = upload(gpu, w, linearKind ? bShape : [bb, ...bShape], wdt);
      const tb = b && upload(gpu, b, [n], act);
      const outShape = linearKind ? [m, n] : [batch, m, n];
      const out = upload(gpu, s.residual === 'in-place' ? r! : nanArray(batch * m * n), outShape, act);
      const tr = s.residual === 'separate' ? upload(gpu, r!, outShape, act) : s.residual === 'in-place' ? out : undefined;
      if (linearKind) linear(gpu, tx, tw, tb, { act: s.act, residual: tr, alpha: s.alpha }, out);
      else matmul(gpu, tx, tw, { transB: s.kind === 'nk' }, out);
      const got = await readAsF32(gpu, out);

      const dims = { batch, m, n, k, aBatch: ba === 1 ? 0 : m * k, bBatch: bb === 1 ? 0 : n * k, layout: s.kind === 'kn' ? 'kn' as const : 'nk' as const };
      const epi = { act: s.act, alpha: s.alpha, residual: r };
      const ref = gemmRef(x, w, b, dims, epi);
      const tol: Tolerance = act === 'f16'
        ? { maxAbsRel: HALF_ULP + gemmTolerance(k).maxAbsRel!, relL2: HALF_ULP }
        : gemmTolerance(k);
      assertClose(name, got, ref, tol, outShape);
      if (act === 'f16' || wdt === 'f16') {
        // What f16 storage costs against the unrounded inputs (reported by the test name's tolerance).
        const exact = gemmRef(x32, w32, b32, dims, { ...epi, residual: r32 });
        const e = compareArrays(got, exact, {});
        if (!(e.relL2 <= 1e-3)) throw new Error(`${name}: rel_l2 ${e.relL2.toExponential(3)} against the f32 inputs exceeds 1e-3`);
      }
      for (const t of [tx, tw, tb, s.residual === 'separate' ? tr : undefined, out]) t?.release();
    },
  };
}

/** Tile edges, alignments, batch broadcast and epilogues in f32. */
export const edgeCases: KernelCase[] = [
  // K % 4 != 0 (scalar A and B loads), M and N one past a 64-tile, K one past a 16-step.
  gemmCase({ kind: 'linear', m: 65, k: 17, n: 65, bias: true, act: 'gelu' }),
  // vec4 loads, M one below a tile multiple, N odd, several K steps, in-place residual.
  gemmCase({ kind: 'linear', m: 63, k: 68, n: 33, residual: 'in-place', alpha: 0.5 }),
  // 129 rows (one past 128), relu + separate residual, K crossing a TK=32 step by 4.
  gemmCase({ kind: 'linear', m: 129, k: 36, n: 40, bias: true, act: 'relu', residual: 'separate' }),
  // Decoder-like tokens: M below the subgroup variant's 4 and 8-row blocks.
  gemmCase({ kind: 'linear', m: 3, k: 64, n: 70, bias: true }),
  gemmCase({ kind: 'linear', m: 7, k: 200, n: 31, bias: true, act: 'gelu' }),
  // B [K, N]: vec4 B with scalar A (K odd), a broadcast over 3 batches.
  gemmCase({ kind: 'kn', m: 33, k: 19, n: 64, batchA: 1, batchB: 3 }),
  // B [K, N] with N % 4 != 0 (scalar B), vec4 A, B broadcast.
  gemmCase({ kind: 'kn', m: 17, k: 32, n: 66, batchA: 2, batchB: 1 }),
  // B [N, K] batched (attention-like q·kᵀ), both sides batched.
  gemmCase({ kind: 'nk', m: 31, k: 40, n: 35, batchA: 2, batchB: 2 }),
];

/** Storage types: f16 weights with f32 activations, and all-f16. */
export const f16Cases: KernelCase[] = [
  gemmCase({ kind: 'linear', m: 37, k: 64, n: 45, bias: true, act: 'gelu', residual: 'separate', weightDtype: 'f16' }),
  // K % 4 != 0: the scalar weight loads convert f16 too.
  gemmCase({ kind: 'linear', m: 9, k: 130, n: 20, bias: true, weightDtype: 'f16' }),
  gemmCase({ kind: 'linear', m: 37, k: 64, n: 45, bias: true, act: 'relu', residual: 'in-place', actDtype: 'f16', weightDtype: 'f16' }),
  gemmCase({ kind: 'kn', m: 21, k: 200, n: 36, batchA: 2, batchB: 1, actDtype: 'f16', weightDtype: 'f16' }),
];

/** f32 edge cases under the adapter's own choice (the browser page runs every `cases` export). */
export const cases: KernelCase[] = edgeCases;
