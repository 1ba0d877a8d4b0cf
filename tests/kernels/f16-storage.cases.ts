// f16 activation storage in every kernel an f16 component runs (src/model/precision.ts): each case
// feeds the same f16-representable inputs to the kernel's f32 and f16 pipelines and compares the
// f16 output with the f32 one (itself checked against its CPU reference in <op>.cases.ts).
// Accumulation, LayerNorm and softmax statistics stay f32 inside the kernels, so the f16 result
// differs by the rounding of the stored output (2^-11 relative) plus f16 intermediates some kernels
// keep (attention's P·V tile), hence max |Δ| ≤ 4e-3 · max|ref| and rel-L2 ≤ 2e-3.
//
// Kernels that take no f16 (the components convert at their boundaries instead): preprocess (the
// encoder casts its f32 input), memory-bank (memories are f32 between components), position rffDense
// and the prompt encoder (the decoder hands f32 to the selection).
import { attention } from '../../src/kernels/attention/attention.js';
import { conv2d } from '../../src/kernels/conv/conv.js';
import { convTranspose2x2 } from '../../src/kernels/conv/conv-transpose.js';
import { binary, unary } from '../../src/kernels/elementwise/elementwise.js';
import { layerNorm } from '../../src/kernels/layer-norm/layer-norm.js';
import { sliceCopy } from '../../src/kernels/mask-select/mask-select.js';
import { linear, matmul } from '../../src/kernels/matmul/matmul.js';
import { nearestUp2, resize } from '../../src/kernels/resize/resize.js';
import { rope } from '../../src/kernels/rope/rope.js';
import { softmax } from '../../src/kernels/softmax/softmax.js';
import { maxPool2x2, windowPartition, windowUnpartition } from '../../src/kernels/window/window.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { DType, GpuTensor } from '../../src/runtime/tensor.js';
import { assertClose } from '../helpers/compare.js';
import { readAsF32, roundToF16, uploadAs } from '../helpers/f16.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { randomArray } from '../helpers/random.js';

const TOL = { maxAbsRel: 4e-3, relL2: 2e-3 };

interface Input {
  shape: number[];
  lo?: number;
  hi?: number;
}

/**
 * A case: `run(gpu, inputs)` launches the kernel on tensors of one dtype and returns its output;
 * it runs once with f32 tensors and once with f16 tensors holding the same (f16-rounded) values.
 */
function f16Case(name: string, inputs: Input[], run: (gpu: Gpu, t: GpuTensor[], dtype: DType) => GpuTensor): KernelCase {
  return {
    name: `f16 storage: ${name}`,
    async run(gpu) {
      if (!gpu.features.f16) return; // no f16 storage on this adapter (SwiftShader in Chromium)
      const host = inputs.map((inp, i) => roundToF16(randomArray(inp.shape.reduce((a, b) => a * b, 1), 101 + 17 * i, inp.lo ?? -1, inp.hi ?? 1)));
      const results: Float32Array[] = [];
      for (const dtype of ['f32', 'f16'] as const) {
        const t = host.map((h, i) => uploadAs(gpu, h, inputs[i].shape, dtype));
        const out = run(gpu, t, dtype);
        if (out.dtype !== dtype) throw new Error(`${name}: ${dtype} inputs gave a ${out.dtype} output`);
        results.push(await readAsF32(gpu, out));
        out.release();
        t.forEach((x) => x.release());
      }
      assertClose(`${name} (f16 vs f32)`, results[1], results[0], TOL);
    },
  };
}

export const cases: KernelCase[] = [
  f16Case('layer-norm C=96 (vec4)', [{ shape: [37, 96], lo: 2, hi: 5 }, { shape: [96] }, { shape: [96] }], (g, [x, w, b]) => layerNorm(g, x, w, b, 1e-6)),
  f16Case('layer-norm C=13 (scalar)', [{ shape: [29, 13] }, { shape: [13] }, { shape: [13] }], (g, [x, w, b]) => layerNorm(g, x, w, b, 1e-5)),
  f16Case('softmax rows of 77', [{ shape: [9, 77], lo: -6, hi: 6 }], (g, [x]) => softmax(g, x, 0.5)),
  f16Case('linear + gelu + residual', [{ shape: [21, 64] }, { shape: [37, 64] }, { shape: [37] }, { shape: [21, 37] }], (g, [x, w, b, r]) =>
    linear(g, x, w, b, { act: 'gelu', residual: r }),
  ),
  f16Case('matmul a·b (activations × activations)', [{ shape: [5, 32] }, { shape: [32, 44] }], (g, [a, b]) => matmul(g, a, b)),
  f16Case('attention 2 windows × 2 heads, nq=49, nk=49, hd=24', [{ shape: [2, 49, 48] }, { shape: [2, 49, 48] }, { shape: [2, 49, 48] }], (g, [q, k, v]) =>
    attention(g, q, k, v, { batch: 2, heads: 2, headDim: 24, nq: 49, nk: 49 }),
  ),
  f16Case('attention strided q/k/v views of one qkv tensor', [{ shape: [30, 3 * 32] }], (g, [qkv]) =>
    attention(g, { tensor: qkv, offset: 0, rowStride: 96 }, { tensor: qkv, offset: 32, rowStride: 96 }, { tensor: qkv, offset: 64, rowStride: 96 }, { batch: 1, heads: 1, headDim: 32, nq: 30, nk: 30 }),
  ),
  f16Case('rope on 2 heads of a 6×5 grid (in place)', [{ shape: [30, 16] }], (g, [x]) => {
    rope(g, x, { headDim: 8, endX: 6, endY: 5 }, { tokens: 30, heads: 2 });
    return g.clone(x);
  }),
  f16Case('window partition 11×9, window 4', [{ shape: [11, 9, 6] }], (g, [x]) => windowPartition(g, x, 4)),
  f16Case('window unpartition to 7×10', [{ shape: [6, 4, 4, 6] }], (g, [x]) => windowUnpartition(g, x, 7, 10)),
  f16Case('max-pool 2×2', [{ shape: [1, 10, 8, 6] }], (g, [x]) => maxPool2x2(g, x)),
  f16Case('add with broadcast, gelu', [{ shape: [33, 12] }, { shape: [12] }], (g, [a, b]) => {
    const s = binary(g, 'add', a, b, undefined, 1, 0, 0.1);
    const o = unary(g, 'gelu', s);
    s.release();
    return o;
  }),
  f16Case('conv2d direct 3×3 s2', [{ shape: [13, 11, 5] }, { shape: [7, 5, 3, 3] }, { shape: [7] }], (g, [x, w, b]) => conv2d(g, x, w, b, { stride: 2, padding: 1 })),
  f16Case('conv2d depthwise 7×7', [{ shape: [9, 10, 8] }, { shape: [8, 1, 7, 7] }, { shape: [8] }], (g, [x, w, b]) => conv2d(g, x, w, b, { padding: 3, groups: 8 })),
  f16Case('conv-transpose 2×2 + skip', [{ shape: [5, 6, 8] }, { shape: [8, 4, 2, 2] }, { shape: [4] }, { shape: [10, 12, 4] }], (g, [x, w, b, skip]) =>
    convTranspose2x2(g, x, w, b, skip),
  ),
  f16Case('nearest ×2 + lateral', [{ shape: [4, 5, 6] }, { shape: [8, 10, 6] }], (g, [x, lat]) => nearestUp2(g, x, lat)),
  f16Case('bilinear resize', [{ shape: [7, 9, 2] }], (g, [x]) => resize(g, 'bilinear', x, [13, 17])),
  f16Case('slice copy', [{ shape: [5, 40] }], (g, [x]) => sliceCopy(g, x, [2, 40], 80)),
];
