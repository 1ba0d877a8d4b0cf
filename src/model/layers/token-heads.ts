// Several small MLP heads on single token rows as one launch (kernels/token-mlp): the heads' f32
// weights are packed once into one derived tensor, and a job table says which row goes through
// which head into which output. Only f32 weights and activations are fused; with packed weight
// formats or f16 activations `TokenHeads.create` returns null and the caller keeps its per-layer
// GEMMs.
import { encodeTokenMlpJobs, tokenMlp, type TokenMlpJob } from '../../kernels/token-mlp/token-mlp.js';
import { MAX_LAYERS } from '../../kernels/token-mlp/token-mlp.wgsl.js';
import type { Gpu } from '../../runtime/gpu.js';
import type { GpuTensor } from '../../runtime/tensor.js';
import type { WeightScope } from '../weights.js';
import type { Linear } from './linear.js';

/** The widest layer the kernel's workgroup memory holds (2 rows of f32 in 16 KiB). */
const MAX_WIDTH = 2048;

export interface FusedHead {
  /** Input row within one batch item of x. */
  row: number;
  /** Linear layers, ReLU between them (upstream MLP with ReLU). */
  layers: Linear[];
  /** Output tensor index and element offset of the result in one batch item of it. */
  output: number;
  outOffset: number;
  sigmoid?: boolean;
}

/** Plain f32 weights (read from the store's metadata, without uploading the layer's own copies) that fit the kernel. */
function fusable(l: Linear): boolean {
  return l.plainF32 && l.inDim <= MAX_WIDTH && l.outDim <= MAX_WIDTH;
}

export class TokenHeads {
  private constructor(
    private readonly gpu: Gpu,
    private readonly weights: GpuTensor,
    private readonly jobs: TokenMlpJob[],
    private readonly table: GpuTensor,
    readonly inDim: number,
  ) {}

  /**
   * The fused form of `heads`, or null when one of them cannot be fused (weights not plain f32,
   * more than MAX_LAYERS layers, a layer wider than MAX_WIDTH). `name` keys the packed weights in
   * `scope`'s store (uploaded once).
   */
  static create(gpu: Gpu, scope: WeightScope, name: string, heads: FusedHead[]): TokenHeads | null {
    if (scope.activations !== 'f32' || heads.length === 0) return null;
    if (heads.some((h) => h.layers.length < 1 || h.layers.length > MAX_LAYERS || !h.layers.every(fusable))) return null;
    const inDim = heads[0].layers[0].inDim;
    if (heads.some((h) => h.layers[0].inDim !== inDim)) return null;
    // Offsets of every layer's weight and bias in the pack, in head order.
    let size = 0;
    const jobs: TokenMlpJob[] = heads.map((h) => ({
      row: h.row,
      output: h.output,
      outOffset: h.outOffset,
      sigmoid: h.sigmoid,
      layers: h.layers.map((l, k) => {
        const weightOffset = size;
        size += l.inDim * l.outDim;
        const biasOffset = l.hasBias ? size : undefined;
        if (l.hasBias) size += l.outDim;
        return { weightOffset, biasOffset, inDim: l.inDim, outDim: l.outDim, relu: k < h.layers.length - 1 };
      }),
    }));
    const weights = scope.derived(name, () => {
      const data = new Float32Array(size);
      heads.forEach((h, i) =>
        h.layers.forEach((l, k) => {
          const at = jobs[i].layers[k];
          data.set(l.scope.host('weight'), at.weightOffset);
          if (at.biasOffset !== undefined) data.set(l.scope.host('bias'), at.biasOffset);
        }),
      );
      return { data, shape: [size] };
    });
    // The pack carries these layers: their own copies stay off the GPU (see WeightStore.deferUploads).
    for (const h of heads) for (const l of h.layers) l.fusedElsewhere();
    const table = encodeTokenMlpJobs(jobs);
    return new TokenHeads(gpu, weights, jobs, gpu.upload(table, [table.length], 'u32', `${name} jobs`), inDim);
  }

  /** Runs every head on x [B, rows, inDim] into `outputs` (B items each); rows shifted by `rowOffset`. */
  run(x: GpuTensor, outputs: GpuTensor[], batch = 1, rowOffset = 0): void {
    tokenMlp(this.gpu, { x, xCols: this.inDim, weights: this.weights, jobs: this.jobs, jobTable: this.table, outputs, batch, rowOffset });
  }

  /** Frees the job table (the packed weights belong to the weight store). */
  release(): void {
    this.table.release();
  }
}
