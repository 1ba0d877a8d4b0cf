// The mask decoder's two-way transformer: prompt tokens and image tokens attend to each other.
// Upstream: sam2/modeling/sam/transformer.py (TwoWayTransformer, TwoWayAttentionBlock, Attention)
// and sam2/modeling/sam2_utils.py (MLP).
//
// Post-norm blocks. Layer 0's token self-attention has no residual and no PE; the token PE is the
// initial token tensor, re-added before every attention; the image→token attention takes the
// PE'd image as queries, the PE'd tokens as keys and the un-PE'd tokens as values.
import { attention } from '../kernels/attention/attention.js';
import { binary } from '../kernels/elementwise/elementwise.js';
import type { Gpu } from '../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../runtime/tensor.js';
import { LayerNorm } from './layers/layer-norm.js';
import { FusedTwoWay } from './two-way-token-path.js';
import { Linear } from './layers/linear.js';
import { Mlp } from './layers/mlp.js';
import type { WeightScope } from './weights.js';

/** nn.LayerNorm default eps (every norm of the two-way transformer). */
export const LN_EPS = 1e-5;

/**
 * `Attention`: q/k/v projections to an internal dim (embedding_dim / downsample_rate), SDPA over
 * `heads` heads of internal/heads channels (channel = h·hd + j), output projection back.
 */
export class DecoderAttention {
  readonly internalDim: number;
  readonly headDim: number;
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;

  constructor(
    private readonly gpu: Gpu,
    w: WeightScope,
    readonly embeddingDim: number,
    readonly heads: number,
  ) {
    this.qProj = new Linear(gpu, w.scope('q_proj'), { inDim: embeddingDim });
    this.internalDim = this.qProj.outDim;
    this.kProj = new Linear(gpu, w.scope('k_proj'), { outDim: this.internalDim });
    this.vProj = new Linear(gpu, w.scope('v_proj'), { outDim: this.internalDim });
    this.outProj = new Linear(gpu, w.scope('out_proj'), { inDim: this.internalDim, outDim: embeddingDim });
    if (this.internalDim % heads !== 0) throw new Error(`${w.prefix}: internal dim ${this.internalDim} is not divisible by ${heads} heads`);
    this.headDim = this.internalDim / heads;
  }

  /**
   * q: [B·Nq, C], k and v: [B·Nk, C] → [B·Nq, C]: `batch` items (objects) stacked, each attending
   * to its own keys. With `residual` the output projection adds it (`x + attn(...)`), fused into
   * the last GEMM.
   */
  forward(q: GpuTensor, k: GpuTensor, v: GpuTensor, residual?: GpuTensor, batch = 1): GpuTensor {
    const nq = q.size / this.embeddingDim / batch;
    const nk = k.size / this.kProj.inDim / batch;
    if (!Number.isInteger(nq) || !Number.isInteger(nk)) throw new Error(`DecoderAttention: q ${shapeStr(q.shape)} and k ${shapeStr(k.shape)} do not split into ${batch} items`);
    // Input projections: [N, C] → [N, Ci]
    const qp = this.qProj.forward(q);
    const kp = this.kProj.forward(k);
    const vp = this.vProj.forward(v);
    // softmax(q·kᵀ/√hd)·v per head (channel = h·hd + j): [Nq, Ci]
    const o = attention(this.gpu, qp, kp, vp, { batch, heads: this.heads, headDim: this.headDim, nq, nk });
    qp.release();
    kp.release();
    vp.release();
    // Output projection (+ residual): [Nq, C]
    const out = this.outProj.forward(o.reshape([batch * nq, this.internalDim]), { residual });
    o.release();
    return out;
  }
}

export class TwoWayAttentionBlock {
  readonly selfAttn: DecoderAttention;
  readonly crossTokenToImage: DecoderAttention;
  readonly crossImageToToken: DecoderAttention;
  readonly norms: LayerNorm[];
  readonly mlp: Mlp;

  constructor(
    private readonly gpu: Gpu,
    w: WeightScope,
    dim: number,
    heads: number,
    readonly skipFirstLayerPe: boolean,
  ) {
    this.selfAttn = new DecoderAttention(gpu, w.scope('self_attn'), dim, heads);
    this.crossTokenToImage = new DecoderAttention(gpu, w.scope('cross_attn_token_to_image'), dim, heads);
    this.crossImageToToken = new DecoderAttention(gpu, w.scope('cross_attn_image_to_token'), dim, heads);
    this.norms = [1, 2, 3, 4].map((i) => new LayerNorm(gpu, w.scope(`norm${i}`), LN_EPS, dim));
    // C → mlp_dim → C with ReLU; mlp_dim from the weights (2048 upstream, independent of C).
    this.mlp = new Mlp(gpu, w.scope('mlp'), { numLayers: 2, act: 'relu' });
  }

  /** LN_i(x), releasing x. */
  private norm(i: number, x: GpuTensor): GpuTensor {
    const out = this.norms[i - 1].forward(x);
    x.release();
    return out;
  }

  /**
   * queries [B·T, C], keys [B·Nq, C] (`batch` objects stacked), queryPe [B·T, C], keyPe [Nq, C]
   * (shared) → new queries and keys (the inputs are left to the caller).
   */
  forward(queries: GpuTensor, keys: GpuTensor, queryPe: GpuTensor, keyPe: GpuTensor, batch = 1): { queries: GpuTensor; keys: GpuTensor } {
    const g = this.gpu;

    // (1) Self-attention of the tokens. Layer 0: Q = SelfAttn(Q, Q, Q), no residual, no PE.
    let q: GpuTensor;
    if (this.skipFirstLayerPe) {
      q = this.selfAttn.forward(queries, queries, queries, undefined, batch);
    } else {
      const qPe = binary(g, 'add', queries, queryPe); // [T, C]
      q = this.selfAttn.forward(qPe, qPe, queries, queries, batch);
      qPe.release();
    }
    q = this.norm(1, q);

    // (2) Tokens attend to the image: Q = LN2(Q + Attn(Q + tpe, K + pe, K)).
    const qPe2 = binary(g, 'add', q, queryPe); // [T, C]
    const kPe = binary(g, 'add', keys, keyPe); // [B·Nq, C], the PE broadcast over objects
    let q2 = this.crossTokenToImage.forward(qPe2, kPe, keys, q, batch);
    qPe2.release();
    q.release();
    q2 = this.norm(2, q2);

    // (3) MLP: Q = LN3(Q + MLP(Q)), the residual fused into the last layer.
    let q3 = this.mlp.forward(q2, q2);
    q2.release();
    q3 = this.norm(3, q3);

    // (4) Image attends to the tokens: K = LN4(K + Attn(K + pe, Q + tpe, Q)). The keys' PE'd copy
    // from (2) is still current: keys change only here.
    const qPe4 = binary(g, 'add', q3, queryPe); // [T, C]
    let k4 = this.crossImageToToken.forward(kPe, qPe4, q3, keys, batch);
    qPe4.release();
    kPe.release();
    k4 = this.norm(4, k4);

    return { queries: q3, keys: k4 };
  }
}

export class TwoWayTransformer {
  readonly dim: number;
  readonly layers: TwoWayAttentionBlock[] = [];
  readonly finalAttn: DecoderAttention;
  readonly normFinal: LayerNorm;
  /** The token side as row programs (f32 weights and activations only; see two-way-token-path.ts). */
  private readonly fused: FusedTwoWay | null;

  constructor(
    private readonly gpu: Gpu,
    w: WeightScope,
    dim: number,
    heads: number,
    depth: number,
  ) {
    this.dim = dim;
    if (!(depth >= 1)) throw new Error(`TwoWayTransformer: depth ${depth} must be at least 1`);
    for (let i = 0; i < depth; i++) {
      this.layers.push(new TwoWayAttentionBlock(gpu, w.scope(`layers.${i}`), dim, heads, i === 0));
    }
    this.finalAttn = new DecoderAttention(gpu, w.scope('final_attn_token_to_image'), dim, heads);
    this.normFinal = new LayerNorm(gpu, w.scope('norm_final_attn'), LN_EPS, dim);
    this.fused = FusedTwoWay.create(gpu, w, this);
  }

  /** Frees the fused path's op tables (weights belong to the weight store). */
  release(): void {
    this.fused?.release();
  }

  /**
   * image: [Nq, C] tokens of the (prompt-added) image embedding, imagePe: [Nq, C],
   * pointEmbedding: [T, C] (output tokens + sparse prompt tokens; also the token PE).
   * Returns hs [T, C] and the updated image tokens [Nq, C]; the inputs are not consumed.
   * With `batch` > 1, image [B·Nq, C] and pointEmbedding [B·T, C] stack B objects (imagePe is
   * shared) and the outputs are stacked the same way.
   */
  forward(image: GpuTensor, imagePe: GpuTensor, pointEmbedding: GpuTensor, batch = 1): { hs: GpuTensor; keys: GpuTensor } {
    const g = this.gpu;
    const c = this.dim;
    if (image.size % c || image.size !== batch * imagePe.size || pointEmbedding.size % (c * batch)) {
      throw new Error(
        `TwoWayTransformer: image ${shapeStr(image.shape)}, PE ${shapeStr(imagePe.shape)} and tokens ${shapeStr(pointEmbedding.shape)} do not fit dim ${c} × ${batch} items`,
      );
    }
    const nq = imagePe.size / c;
    const t = pointEmbedding.size / c;
    const tokens = pointEmbedding.reshape([t, c]);
    const pe = imagePe.reshape([nq, c]);
    if (this.fused) return this.fused.forward(image.reshape([batch * nq, c]), pe, tokens, batch);
    let queries = tokens;
    let keys = image.reshape([batch * nq, c]);
    for (const [i, layer] of this.layers.entries()) {
      const next = layer.forward(queries, keys, tokens, pe, batch);
      if (i > 0) {
        queries.release();
        keys.release();
      }
      ({ queries, keys } = next);
    }

    // Final token → image attention: Q = LN(Q + Attn(Q + tpe, K + pe, K)).
    const qPe = binary(g, 'add', queries, tokens); // [T, C]
    const kPe = binary(g, 'add', keys, pe); // [B·Nq, C]
    const out = this.finalAttn.forward(qPe, kPe, keys, queries, batch);
    qPe.release();
    kPe.release();
    queries.release();
    const hs = this.normFinal.forward(out);
    out.release();
    return { hs, keys };
  }
}
