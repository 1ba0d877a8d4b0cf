// y = x·Wᵀ + b over the last dim (torch.nn.Linear), optionally with a fused activation and a fused
// residual add: y = act(x·Wᵀ + b) + residual. Also serves 1×1 convolutions in channels-last
// layout (weights [out, in, 1, 1] are viewed as [out, in]). The weight is in the scope's weight
// format (precision.ts): packed formats are dequantized in registers by the GEMM's weight seam.
// A `prologue` LayerNorm (a LayerNorm layer) normalizes x first, fused into the GEMM's A loads
// where the adapter's GEMM variant allows it (kernels/matmul/matmul.ts: linear).
import { linear, type Activation as LinearActivation, type GemmNormA } from '../../kernels/matmul/matmul.js';
import type { WeightOperand } from '../../kernels/packed-weight/packed-weight.js';
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import type { WeightScope } from '../weights.js';

export type { LinearActivation };

export interface LinearOptions {
  act?: LinearActivation;
  /** Added after the activation; same shape as the output. */
  residual?: GpuTensor;
  /** LayerNorm over x's features applied before the product: y = act(LN(x)·Wᵀ + b) + residual. */
  prologue?: GemmNormA;
}

export class Linear {
  readonly inDim: number;
  readonly outDim: number;
  readonly hasBias: boolean;
  private weightOnGpu: WeightOperand | undefined;
  private biasOnGpu: GpuTensor | undefined;

  /** Reads `weight` ([out, in] or a 1×1 conv [out, in, 1, 1]) and `bias` (if present) from `scope`. */
  constructor(
    private readonly gpu: Gpu,
    readonly scope: WeightScope,
    expect?: { inDim?: number; outDim?: number },
  ) {
    const shape = scope.shape('weight');
    const is1x1 = shape.length === 4 && shape[2] === 1 && shape[3] === 1;
    if (shape.length !== 2 && !is1x1) {
      throw new Error(`Linear ${scope.key('weight')}: weight ${shapeStr(shape)} is neither [out, in] nor a 1×1 conv`);
    }
    [this.outDim, this.inDim] = shape;
    if ((expect?.inDim !== undefined && expect.inDim !== this.inDim) || (expect?.outDim !== undefined && expect.outDim !== this.outDim)) {
      throw new Error(`Linear ${scope.key('weight')}: weight ${shapeStr(shape)} does not map ${expect.inDim ?? '?'} → ${expect.outDim ?? '?'} channels`);
    }
    this.hasBias = scope.has('bias');
    // At construction, or at the end of an enclosing `WeightStore.deferUploads` unless a fused path
    // takes this layer over (`fusedElsewhere`).
    scope.store.uploadSoon(this, () => {
      void this.weight;
      void this.bias;
    });
  }

  /** [out, in]: floats of the activation type, or packed (f16/bf16/int8/int4) per the scope's precision. Uploaded on first use. */
  get weight(): WeightOperand {
    return (this.weightOnGpu ??= this.scope.matrix('weight').reshape([this.outDim, this.inDim]));
  }

  /** [out], uploaded on first use. */
  get bias(): GpuTensor | undefined {
    if (this.hasBias) this.biasOnGpu ??= this.scope.tensor('bias', [this.outDim]);
    return this.biasOnGpu;
  }

  /** Whether the weight is a plain f32 tensor with f32 activations (what fused f32 paths read), known without uploading. */
  get plainF32(): boolean {
    return this.scope.activations === 'f32' && this.scope.matrixFormat('weight') === 'f32';
  }

  /**
   * A fused path packs this layer's weights itself: its own copies are not uploaded at the end of
   * the enclosing `deferUploads` (only if `forward` runs after all).
   */
  fusedElsewhere(): void {
    this.scope.store.cancelUpload(this);
  }

  /**
   * x [M, in] (any leading shape whose last dim is `in`) → [M, out]. Returns `out` itself when
   * given (any shape of M·out elements), else a new [M, out] tensor.
   */
  forward(x: GpuTensor, opts: LinearOptions = {}, out?: GpuTensor): GpuTensor {
    const k = x.shape[x.shape.length - 1];
    if (k !== this.inDim) throw new Error(`Linear ${this.scope.prefix}: input ${shapeStr(x.shape)} has ${k} channels, expected ${this.inDim}`);
    const m = x.size / k;
    if (opts.prologue && opts.prologue.weight.size !== k) {
      throw new Error(`Linear ${this.scope.prefix}: LayerNorm prologue has ${opts.prologue.weight.size} channels, input has ${k}`);
    }
    const y = linear(
      this.gpu, x.reshape([m, k]), this.weight, this.bias,
      { act: opts.act ?? 'none', residual: opts.residual?.reshape([m, this.outDim]), norm: opts.prologue && normOperand(opts.prologue) },
      out?.reshape([m, this.outDim]),
    );
    return out ?? y;
  }
}

/** Only the fields the GEMM prologue reads (a LayerNorm layer has more). */
function normOperand(n: GemmNormA): GemmNormA {
  return { weight: n.weight, bias: n.bias, eps: n.eps };
}
