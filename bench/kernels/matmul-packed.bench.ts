// The GEMM with packed weights (the dequantizing weight-load seam) against plain f32, at hiera-t
// shapes: each weight format with f32 activations, and f16 activations with f16 / int8 / int4
// weights. Compare the `linear packed ...` rows with each other (same adapter, same run).
import { float32ToFloat16Array } from '../../src/io/half.js';
import { linear } from '../../src/kernels/matmul/matmul.js';
import { PackedWeight } from '../../src/kernels/packed-weight/packed-weight.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { DType, GpuTensor } from '../../src/runtime/tensor.js';
import { packMatrix, type WeightFormat } from '../../src/weights/packed.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomValues, releaseAll } from '../lib/tensors.js';

interface Shape {
  what: string;
  tokens: (s: number) => number;
  k: number;
  n: number;
}

const SHAPES: Shape[] = [
  { what: 'hiera-t blk0 mlp fc1', tokens: (s) => (s / 4) ** 2, k: 96, n: 384 },
  { what: 'hiera-t stage3 mlp fc1', tokens: (s) => (s / 16) ** 2, k: 384, n: 1536 },
  { what: 'hiera-t stage4 mlp fc1', tokens: (s) => (s / 32) ** 2, k: 768, n: 3072 },
  { what: 'mem-attn ffn linear1', tokens: (s) => (s / 16) ** 2, k: 256, n: 2048 },
];

/** [weights, activations]: f32/f32 is the plain kernel; f16/f16 the plain f16 kernel; the rest read packed weights. */
const COMBOS: Array<[WeightFormat, DType]> = [
  ['f32', 'f32'], ['f16', 'f32'], ['bf16', 'f32'], ['int8', 'f32'], ['int4', 'f32'],
  ['f16', 'f16'], ['int8', 'f16'], ['int4', 'f16'],
];

/** int4 group: 64 where K allows (as int4-g64 in the model), else 32. */
const group = (k: number) => (k % 64 === 0 ? 64 : 32);

function upload(gpu: Gpu, data: Float32Array, shape: number[], dtype: DType): GpuTensor {
  return dtype === 'f16' ? gpu.upload(float32ToFloat16Array(data), shape, 'f16') : gpu.upload(data, shape, 'f32');
}

export const benches: BenchCase[] = SHAPES.flatMap((sh) =>
  COMBOS.flatMap(([wf, act]) =>
    atSizes([512, 1024], (s) => {
      const m = sh.tokens(s);
      return {
        name: `linear packed w=${wf}${wf === 'int4' ? `-g${group(sh.k)}` : ''} act=${act} ${sh.what} ${m}x${sh.k}->${sh.n}`,
        setup(gpu) {
          if (act === 'f16' && !gpu.features.f16) throw new Error('needs shader-f16');
          const x = upload(gpu, randomValues(m * sh.k, 81), [m, sh.k], act);
          const wHost = randomValues(sh.n * sh.k, 82, -0.1, 0.1);
          const plain = wf === act;
          const w = plain ? upload(gpu, wHost, [sh.n, sh.k], act) : PackedWeight.upload(gpu, packMatrix(wHost, sh.n, sh.k, wf, { groupSize: group(sh.k) }), [sh.n, sh.k]);
          const b = upload(gpu, randomValues(sh.n, 83), [sh.n], act);
          const out = gpu.empty([m, sh.n], act);
          return {
            launch: () => linear(gpu, x, w, b, {}, out),
            release: () => {
              releaseAll(x, b, out);
              w.release();
            },
          };
        },
      };
    }),
  ),
);
