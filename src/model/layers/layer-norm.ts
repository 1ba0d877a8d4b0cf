// LayerNorm over the last (channel) dim: (x − mean) / sqrt(var + eps) · γ + β, biased variance
// (torch.nn.LayerNorm; also SAM's LayerNorm2d, which is this per pixel in channels-last layout).
import { layerNorm, type LayerNormAct } from '../../kernels/layer-norm/layer-norm.js';
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import type { WeightScope } from '../weights.js';

export class LayerNorm {
  readonly dim: number;
  private weightOnGpu: GpuTensor | undefined;
  private biasOnGpu: GpuTensor | undefined;

  constructor(
    private readonly gpu: Gpu,
    readonly scope: WeightScope,
    readonly eps: number,
    dim?: number,
  ) {
    [this.dim] = scope.shape('weight');
    if (dim !== undefined && dim !== this.dim) throw new Error(`LayerNorm ${scope.prefix}: has ${this.dim} channels, expected ${dim}`);
    // As Linear: at construction, or at the end of an enclosing `WeightStore.deferUploads` unless fused elsewhere.
    scope.store.uploadSoon(this, () => {
      void this.weight;
      void this.bias;
    });
  }

  /** γ [C] in the activation type, uploaded on first use. */
  get weight(): GpuTensor {
    return (this.weightOnGpu ??= this.scope.tensor('weight', [this.dim]));
  }

  /** β [C], uploaded on first use. */
  get bias(): GpuTensor {
    return (this.biasOnGpu ??= this.scope.tensor('bias', [this.dim]));
  }

  /** A fused path packs γ and β itself: see Linear.fusedElsewhere. */
  fusedElsewhere(): void {
    this.scope.store.cancelUpload(this);
  }

  /** x [..., C] → [rows, C] (then `act`, fused); returns `out` itself when given. */
  forward(x: GpuTensor, out?: GpuTensor, act: LayerNormAct = 'none'): GpuTensor {
    const c = x.shape[x.shape.length - 1];
    if (c !== this.dim) throw new Error(`LayerNorm ${this.scope.prefix}: input ${shapeStr(x.shape)} has ${c} channels, expected ${this.dim}`);
    const rows = x.size / c;
    const y = layerNorm(this.gpu, x.reshape([rows, c]), this.weight, this.bias, this.eps, out?.reshape([rows, c]), act);
    return out ?? y;
  }
}
