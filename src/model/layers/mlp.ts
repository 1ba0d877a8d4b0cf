// Multi-layer perceptron: Linear → act → … → Linear (upstream sam2/modeling/sam2_utils.py MLP:
// GELU in Hiera blocks, ReLU in the SAM heads; optional sigmoid on the output), with an optional
// residual fused into the last layer. When a hidden activation would exceed the chunk budget
// (e.g. the 4× MLP of large Hiera stage 1 at 1024 px), rows are processed in ranges.
import { unary } from '../../kernels/elementwise/elementwise.js';
import type { Gpu } from '../../runtime/gpu.js';
import type { GpuTensor } from '../../runtime/tensor.js';
import type { GemmNormA } from '../../kernels/matmul/matmul.js';
import type { WeightScope } from '../weights.js';
import { Linear, type LinearActivation } from './linear.js';
import { chunkRanges, rowSlice } from './rows.js';

export interface MlpOptions {
  numLayers: number;
  act: Exclude<LinearActivation, 'none'>;
  sigmoidOutput?: boolean;
  /** Byte budget of a hidden activation before rows are chunked (default: chunkBudget). */
  chunkBytes?: number;
}

export class Mlp {
  readonly layers: Linear[];

  /** Layers are `scope.layers.{i}`. */
  constructor(
    private readonly gpu: Gpu,
    scope: WeightScope,
    readonly opts: MlpOptions,
  ) {
    if (!(opts.numLayers >= 1)) throw new Error(`Mlp ${scope.prefix}: numLayers must be ≥ 1`);
    this.layers = Array.from({ length: opts.numLayers }, (_, i) => new Linear(gpu, scope.scope(`layers.${i}`)));
    for (let i = 1; i < this.layers.length; i++) {
      if (this.layers[i].inDim !== this.layers[i - 1].outDim) {
        throw new Error(`Mlp ${scope.prefix}: layer ${i} takes ${this.layers[i].inDim} channels but layer ${i - 1} gives ${this.layers[i - 1].outDim}`);
      }
    }
  }

  get inDim(): number {
    return this.layers[0].inDim;
  }

  get outDim(): number {
    return this.layers[this.layers.length - 1].outDim;
  }

  /**
   * x [M, in] → [M, out] (+ residual [M, out]). `prologue`: a LayerNorm over x's features fused
   * into the first layer (see Linear), so MLP(LN(x)) reads x directly.
   */
  forward(x: GpuTensor, residual?: GpuTensor, out?: GpuTensor, prologue?: GemmNormA): GpuTensor {
    const m = x.size / this.inDim;
    const widest = Math.max(...this.layers.slice(0, -1).map((l) => l.outDim), 0);
    const ranges = chunkRanges(this.gpu, m, widest * 4, [this.inDim, this.outDim], this.opts.chunkBytes, `Mlp ${this.layers[0].scope.prefix}`);
    if (ranges.length === 1) return this.rows(x, residual, out, prologue);
    const o = out ?? this.gpu.empty([m, this.outDim], x.dtype, 'mlp out');
    for (const [r0, r1] of ranges) {
      this.rows(rowSlice(x, r0, r1), residual && rowSlice(residual, r0, r1), rowSlice(o, r0, r1), prologue);
    }
    return o;
  }

  private rows(x: GpuTensor, residual?: GpuTensor, out?: GpuTensor, prologue?: GemmNormA): GpuTensor {
    const sigmoid = this.opts.sigmoidOutput ?? false;
    if (sigmoid && residual) throw new Error(`Mlp ${this.layers[0].scope.prefix}: a residual with sigmoid output is not supported`);
    let h = x;
    const last = this.layers.length - 1;
    for (let i = 0; i <= last; i++) {
      const isLast = i === last;
      const opts = isLast ? { residual } : { act: this.opts.act };
      const next = this.layers[i].forward(h, i === 0 ? { ...opts, prologue } : opts, isLast && !sigmoid ? out : undefined);
      if (h !== x) h.release();
      h = next;
    }
    if (!sigmoid) return h;
    const s = unary(this.gpu, 'sigmoid', h, out);
    h.release();
    return s;
  }
}
