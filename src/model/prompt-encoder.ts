// Prompt encoder: sparse point tokens, the dense prompt (no-mask embedding or the mask-prompt conv
// stack) and the dense random-Fourier image PE.
// Upstream: sam2/modeling/sam/prompt_encoder.py (PromptEncoder) and
// sam2/modeling/position_encoding.py (PositionEmbeddingRandom).
//
// The sparse tokens (a handful of points) are computed on the host in float32 with the official
// op order and uploaded; the image PE and the mask path run on the GPU.
import { conv2d } from '../kernels/conv/conv.js';
import { unary } from '../kernels/elementwise/elementwise.js';
import { rffDense } from '../kernels/position/position.js';
import { rffPointsF32 } from '../kernels/position/position-f32.js';
import type { Gpu } from '../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../runtime/tensor.js';
import type { Sam2Config } from './config.js';
import { LayerNorm } from './layers/layer-norm.js';
import { Linear } from './layers/linear.js';
import { POINT_LABEL, PromptError, validatePointInputs } from './prompts.js';
import type { WeightScope } from './weights.js';

/** LayerNorm2d eps in the mask-prompt conv stack (upstream LayerNorm2d default). */
const LN2D_EPS = 1e-6;

/** The two prompt embeddings the mask decoder consumes. */
export interface PromptEmbeddings {
  /** Sparse tokens on the host, [Ns, C] row-major: the points then one padding token. */
  sparse: Float32Array;
  numSparse: number;
  /**
   * Dense prompt: [F, F, C] from a mask prompt, or the `no_mask_embed` vector [C] that the
   * decoder broadcasts over the grid (upstream `expand`s it the same way; no copy is made).
   */
  dense: GpuTensor;
  /** Whether `dense` is a tensor this call allocated (the mask path); the vector is a weight. */
  denseOwned: boolean;
}

export class PromptEncoder {
  readonly embedDim: number;
  /** F: side of the image-embedding grid. */
  readonly gridSize: number;
  /** S: the model input size that point coordinates refer to. */
  readonly inputSize: number;
  /** 4F: side of a mask prompt. */
  readonly maskInputSize: number;
  private readonly gaussian: Float32Array; // [2, C/2]
  private readonly pointEmbeddings: Float32Array[];
  private readonly notAPointEmbed: Float32Array;
  private imagePe: GpuTensor | null = null;
  private readonly maskNorms: [LayerNorm, LayerNorm];
  private readonly maskProj: Linear;

  constructor(
    private readonly gpu: Gpu,
    private readonly w: WeightScope,
    cfg: Sam2Config,
  ) {
    this.embedDim = cfg.hiddenDim;
    this.gridSize = cfg.imageEmbeddingSize;
    this.inputSize = cfg.imageSize;
    this.maskInputSize = 4 * cfg.imageEmbeddingSize;
    const c = this.embedDim;
    if (c % 2 !== 0) throw new PromptError(`prompt embed dim ${c} must be even (sin | cos halves)`);
    this.gaussian = this.hostChecked('pe_layer.positional_encoding_gaussian_matrix', [2, c / 2]);
    this.pointEmbeddings = [0, 1, 2, 3].map((i) => this.hostChecked(`point_embeddings.${i}.weight`, [1, c]));
    this.notAPointEmbed = this.hostChecked('not_a_point_embed.weight', [1, c]);
    this.maskNorms = [new LayerNorm(gpu, w.scope('mask_downscaling.1'), LN2D_EPS), new LayerNorm(gpu, w.scope('mask_downscaling.4'), LN2D_EPS)];
    this.maskProj = new Linear(gpu, w.scope('mask_downscaling.6'), { outDim: c });
  }

  private hostChecked(name: string, shape: number[]): Float32Array {
    const got = this.w.shape(name);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new PromptError(`weights: ${this.w.key(name)} has shape ${shapeStr(got)}, expected ${shapeStr(shape)}`);
    }
    return this.w.host(name);
  }

  /**
   * Sparse embeddings `_embed_points(points, labels, pad=True)`: coordinates + 0.5, divided by S,
   * random-Fourier encoded; a padding point (0, 0, label −1) is appended (SAM 2 never passes boxes).
   * Label −1 replaces the encoding by `not_a_point_embed`; labels 0..3 add `point_embeddings[label]`.
   * No points = a tracked frame: one padding point plus the pad (`_forward_sam_heads`).
   */
  sparseEmbeddings(points?: Float32Array, labels?: Int32Array): Float32Array {
    if ((points === undefined) !== (labels === undefined)) throw new PromptError('points and labels must be given together');
    const pts = points ?? new Float32Array(2);
    const lbl = labels ?? Int32Array.of(POINT_LABEL.padding);
    validatePointInputs({ points: pts, labels: lbl });
    const c = this.embedDim;
    const n = lbl.length + 1;
    // points + 0.5 (float32), then the padding point (0, 0) appended after the shift.
    const shifted = new Float32Array(2 * n);
    for (let i = 0; i < 2 * lbl.length; i++) shifted[i] = pts[i] + 0.5;
    // Random-Fourier features of (x / S, y / S) in float32, [n, C].
    const out = rffPointsF32(shifted, this.gaussian, this.inputSize, this.inputSize);
    for (let i = 0; i < n; i++) {
      const label = i < lbl.length ? lbl[i] : POINT_LABEL.padding;
      const off = i * c;
      if (label === POINT_LABEL.padding) {
        out.set(this.notAPointEmbed, off);
      } else {
        const add = this.pointEmbeddings[label];
        for (let k = 0; k < c; k++) out[off + k] += add[k];
      }
    }
    return out;
  }

  /**
   * Dense image PE `get_dense_pe()`: random-Fourier features of the F×F grid at
   * ((x + 0.5)/F, (y + 0.5)/F), as tokens [F·F, C] (token = y·F + x). Constant; built once.
   */
  denseImagePe(): GpuTensor {
    const f = this.gridSize;
    this.imagePe ??= rffDense(this.gpu, this.w.tensor('pe_layer.positional_encoding_gaussian_matrix'), f, f);
    return this.imagePe.reshape([f * f, this.embedDim]);
  }

  /**
   * `mask_downscaling` of a [4F, 4F] logit mask → [F, F, C]:
   * conv2×2/s2 → LN2d → GELU → conv2×2/s2 → LN2d → GELU → conv1×1.
   */
  embedMask(mask: GpuTensor): GpuTensor {
    const m = this.maskInputSize;
    if (mask.size !== m * m) {
      throw new PromptError(`mask prompt ${shapeStr(mask.shape)} must be the low-res logits [${m}, ${m}] (resize other masks first)`);
    }
    const g = this.gpu;
    const w = this.w;
    // Two stages conv2×2/s2 → LN2d → GELU: [4F, 4F, 1] → [2F, 2F, m/4] → [F, F, m]
    let x = mask.reshape([m, m, 1]);
    for (const [i, conv] of ['mask_downscaling.0', 'mask_downscaling.3'].entries()) {
      const y = conv2d(g, x, w.matrix(`${conv}.weight`), w.tensor(`${conv}.bias`), { stride: 2, padding: 0 });
      if (i > 0) x.release();
      const n = this.maskNorms[i].forward(y); // [pixels, channels]
      x = unary(g, 'gelu', n.reshape(y.shape));
      y.release();
      n.release();
    }
    // 1×1 projection to the embed dim: a per-pixel linear layer. [F, F, C]
    const f = this.gridSize;
    const dense = this.gpu.empty([f, f, this.embedDim], 'f32', 'dense-prompt');
    this.maskProj.forward(x, {}, dense);
    x.release();
    return dense;
  }

  /** Frees the cached image PE (weights belong to the WeightStore). */
  release(): void {
    this.imagePe?.release();
    this.imagePe = null;
  }

  /** Both embeddings for one decode (`PromptEncoder.forward(points, boxes=None, masks)`). */
  forward(points: Float32Array | undefined, labels: Int32Array | undefined, maskInput?: GpuTensor): PromptEmbeddings {
    const sparse = this.sparseEmbeddings(points, labels);
    const numSparse = sparse.length / this.embedDim;
    if (maskInput) return { sparse, numSparse, dense: this.embedMask(maskInput), denseOwned: true };
    return { sparse, numSparse, dense: this.w.tensor('no_mask_embed.weight').reshape([this.embedDim]), denseOwned: false };
  }
}
