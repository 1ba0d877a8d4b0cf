// Mask decoder: output tokens + prompt tokens ↔ image through the two-way transformer, then the
// upscaling path with the high-res skips, the hypernetwork mask heads, the IoU head and the
// object-score head. Upstream: sam2/modeling/sam/mask_decoder.py (MaskDecoder.predict_masks).
// Output selection (multimask / stability) lives in sam-heads.ts.

import { convTranspose2x2 } from '../kernels/conv/conv-transpose.js';
import { binary, unary } from '../kernels/elementwise/elementwise.js';
import { matmul } from '../kernels/matmul/matmul.js';
import { copyRows, gatherRows } from '../kernels/row-copy/row-copy.js';
import type { Gpu } from '../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../runtime/tensor.js';
import type { Sam2Config } from './config.js';
import { LayerNorm } from './layers/layer-norm.js';
import { Linear } from './layers/linear.js';
import { Mlp } from './layers/mlp.js';
import { noProbe, type Probe } from './probe.js';
import type { PromptEmbeddings } from './prompt-encoder.js';
import { TwoWayTransformer } from './two-way-transformer.js';
import type { WeightScope } from './weights.js';
import { Boundary, outF32 } from './layers/dtype-boundary.js';
import { uploadFloat } from './layers/upload-float.js';
import { TokenHeads } from './layers/token-heads.js';

/** A head on token rows, an MLP or (config-dependent) a single Linear: x [M, C] → `out`. */
export type TokenHead = (x: GpuTensor, out: GpuTensor) => GpuTensor;

export function mlpHead(mlp: Mlp): TokenHead {
  return (x, out) => mlp.forward(x, undefined, out);
}

export function linearHead(lin: Linear): TokenHead {
  return (x, out) => lin.forward(x, {}, out);
}

/** LayerNorm2d eps of the upscaling path. */
const LN2D_EPS = 1e-6;
/** Object score when the model has no object-score head (upstream: "assume the object is present"). */
const DEFAULT_OBJECT_SCORE = 10.0;
/** `MLP(transformer_dim, transformer_dim, transformer_dim // 8, 3)` per mask token. */
const HYPERNETWORK_LAYERS = 3;
/** `MLP(transformer_dim, transformer_dim, 1, 3)` when pred_obj_scores_mlp. */
const OBJ_SCORE_MLP_LAYERS = 3;

export interface HighResFeatures {
  /** conv_s0 of neck level 0: [4F, 4F, C/8]. */
  s0: GpuTensor;
  /** conv_s1 of neck level 1: [2F, 2F, C/4]. */
  s1: GpuTensor;
}

/** `predict_masks` outputs, before any selection or gating. */
export interface MaskDecoderOutput {
  /** All mask logits, channel-first [(B,) numMaskTokens, 4F, 4F] (mask 0 = the single-mask token). */
  masks: GpuTensor;
  /** IoU predictions [(B,) numMaskTokens] (after the sigmoid when `iou_prediction_use_sigmoid`). */
  iou: GpuTensor;
  /** Transformer outputs of the mask tokens [B·numMaskTokens, C]. */
  maskTokens: GpuTensor;
  /** Object-score logit [B] ([1] unbatched). */
  objectScore: GpuTensor;
}

export class MaskDecoder {
  readonly dim: number;
  readonly numMaskTokens: number;
  /** Index of the IoU token among the output tokens (1 with an object-score token first). */
  private readonly iouTokenIndex: number;
  private readonly outputTokens: Float32Array; // [s + 1 + numMaskTokens, C]
  private readonly transformer: TwoWayTransformer;
  private readonly hypernetworks: Mlp[];
  private readonly iouHead: TokenHead;
  private readonly objScoreHead: TokenHead | null;
  private readonly upscaleNorm: LayerNorm;
  private readonly useHighRes: boolean;
  /** Hypernetworks, IoU head and object-score head as one launch (f32 weights and activations only). */
  private readonly fusedHeads: TokenHeads | null;

  constructor(
    private readonly gpu: Gpu,
    private readonly w: WeightScope,
    cfg: Sam2Config,
  ) {
    const c = cfg.hiddenDim;
    this.dim = c;
    const sh = cfg.samHeads;
    this.numMaskTokens = sh.numMultimaskOutputs + 1;
    const maskTokensShape = w.shape('mask_tokens.weight');
    if (maskTokensShape[0] !== this.numMaskTokens || maskTokensShape[1] !== c) {
      throw new Error(`weights: ${w.key('mask_tokens.weight')} has shape ${shapeStr(maskTokensShape)}, expected [${this.numMaskTokens}, ${c}]`);
    }
    const predObj = cfg.flags.predObjScores;
    this.iouTokenIndex = predObj ? 1 : 0;
    // Output tokens [obj_score?, iou, mask0..]: constants, assembled once on the host.
    const parts = [...(predObj ? [w.host('obj_score_token.weight')] : []), w.host('iou_token.weight'), w.host('mask_tokens.weight')];
    this.outputTokens = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      this.outputTokens.set(p, off);
      off += p.length;
    }
    this.transformer = new TwoWayTransformer(gpu, w.scope('transformer'), c, sh.transformerHeads, sh.transformerDepth);
    // Hypernetworks C → C → C → C/8 (3 layers upstream), IoU head C → 256 → … → numMaskTokens
    // (hidden dim and depth fixed by the builder, read from the weights / config), ReLU.
    this.hypernetworks = Array.from(
      { length: this.numMaskTokens },
      (_, i) => new Mlp(gpu, w.scope(`output_hypernetworks_mlps.${i}`), { numLayers: HYPERNETWORK_LAYERS, act: 'relu' }),
    );
    const iouMlp = new Mlp(gpu, w.scope('iou_prediction_head'), { numLayers: sh.iouHeadDepth, act: 'relu', sigmoidOutput: cfg.flags.iouPredictionUseSigmoid });
    this.iouHead = mlpHead(iouMlp);
    // Object score: a 3-layer MLP (pred_obj_scores_mlp) or a single Linear.
    const objScoreMlp = predObj && cfg.flags.predObjScoresMlp ? new Mlp(gpu, w.scope('pred_obj_score_head'), { numLayers: OBJ_SCORE_MLP_LAYERS, act: 'relu' }) : null;
    const objScoreLinear = predObj && !objScoreMlp ? new Linear(gpu, w.scope('pred_obj_score_head')) : null;
    this.objScoreHead = objScoreMlp ? mlpHead(objScoreMlp) : objScoreLinear ? linearHead(objScoreLinear) : null;
    const objScoreLayers = objScoreMlp ? objScoreMlp.layers : objScoreLinear ? [objScoreLinear] : null;
    // Rows of hs: [obj_score?, iou, mask0..]. Outputs: hyper_in [numMaskTokens, C/8], iou, object score.
    const maskRow0 = this.iouTokenIndex + 1;
    this.fusedHeads = TokenHeads.create(gpu, w, 'token_heads_fused', [
      ...this.hypernetworks.map((m, i) => ({ row: maskRow0 + i, layers: m.layers, output: 0, outOffset: i * m.outDim })),
      { row: this.iouTokenIndex, layers: iouMlp.layers, output: 1, outOffset: 0, sigmoid: cfg.flags.iouPredictionUseSigmoid },
      ...(objScoreLayers ? [{ row: 0, layers: objScoreLayers, output: 2, outOffset: 0 }] : []),
    ]);
    this.upscaleNorm = new LayerNorm(gpu, w.scope('output_upscaling.1'), LN2D_EPS);
    this.useHighRes = cfg.flags.useHighResFeaturesInSam;
  }

  /** Frees what the decoder owns besides weights (the fused paths' job and op tables). */
  release(): void {
    this.fusedHeads?.release();
    this.transformer.release();
  }

  get numOutputTokens(): number {
    return this.iouTokenIndex + 1 + this.numMaskTokens;
  }

  /**
   * image: [F, F, C] (conditioned features), or [B, F, F, C] for B objects on one slice as one
   * chain; imagePe: [F·F, C], the prompt embeddings and the high-res skips are shared by the objects
   * (tracked slices have the same empty prompt for every object). Outputs stack the objects along
   * a leading dimension (masks [B, numMaskTokens, 4F, 4F], iou [B, numMaskTokens], maskTokens
   * [B·numMaskTokens, C], objectScore [B]); item b equals the decoder on image b alone. A 3-D image
   * gives the unbatched shapes. Inputs of another dtype than the decoder's activations are
   * converted; outputs are f32. Nothing is read back.
   */
  forward(image: GpuTensor, imagePe: GpuTensor, prompt: PromptEmbeddings, highRes: HighResFeatures | null, probe: Probe = noProbe): MaskDecoderOutput {
    const b = new Boundary(this.gpu, this.w.activations);
    const o = this.forwardIn(
      b.in(image), b.in(imagePe), { ...prompt, dense: b.in(prompt.dense) }, highRes && { s0: b.in(highRes.s0), s1: b.in(highRes.s1) }, probe,
    );
    b.release();
    const g = this.gpu;
    return { masks: outF32(g, o.masks), iou: outF32(g, o.iou), maskTokens: outF32(g, o.maskTokens), objectScore: outF32(g, o.objectScore) };
  }

  private forwardIn(image: GpuTensor, imagePe: GpuTensor, prompt: PromptEmbeddings, highRes: HighResFeatures | null, probe: Probe): MaskDecoderOutput {
    const g = this.gpu;
    const act = this.w.activations;
    const w = this.w;
    const c = this.dim;
    const batched = image.shape.length === 4;
    const B = batched ? image.shape[0] : 1;
    const [fh, fw] = image.shape.slice(-3, -1);
    if ((image.shape.length !== 3 && !batched) || image.shape[image.shape.length - 1] !== c || B * imagePe.size !== image.size) {
      throw new Error(`MaskDecoder: image ${shapeStr(image.shape)} must be [F, F, ${c}] or [B, F, F, ${c}] with a PE of [F·F, ${c}] (got ${shapeStr(imagePe.shape)})`);
    }
    const nq = fh * fw;
    const nM = this.numMaskTokens;
    const lead = (...shape: number[]): number[] => (batched ? [B, ...shape] : shape);

    // Tokens: [obj_score, iou, mask0..3, sparse...] → [T, C] per object (the same for every object)
    const numOut = this.numOutputTokens;
    const t = numOut + prompt.numSparse;
    const host = new Float32Array(B * t * c);
    for (let i = 0; i < B; i++) {
      host.set(this.outputTokens, i * t * c);
      host.set(prompt.sparse, (i * t + numOut) * c);
    }
    const tokens = uploadFloat(g, host, [B * t, c], act, 'decoder-tokens');

    // src = image embedding + dense prompt (a [C] no-mask vector or one [F, F, C] map broadcasts
    // over the grid and the objects): [B·Nq, C]
    const src = binary(g, 'add', image.reshape([B * nq, c]), prompt.dense);

    // Two-way transformer: hs [B·T, C], keys [B·Nq, C]
    const { hs, keys } = this.transformer.forward(src, imagePe.reshape([nq, c]), tokens, B);
    src.release();
    tokens.release();
    probe('decoder.hs', hs, 'tokens');
    probe('decoder.src', keys, 'tokens');

    // Upscaling (per object; the skips are shared): U1 = GELU(LN2d(convT(K) + s1)) [2F, 2F, C/4];
    // U0 = GELU(convT(U1) + s0) [4F, 4F, C/8]
    if (this.useHighRes && !highRes) throw new Error('MaskDecoder: this model needs the high-res features s0/s1');
    const s1 = this.useHighRes ? highRes!.s1 : undefined;
    const s0 = this.useHighRes ? highRes!.s0 : undefined;
    const d1 = convTranspose2x2(g, keys.reshape(lead(fh, fw, c)), w.tensor('output_upscaling.0.weight'), w.tensor('output_upscaling.0.bias'), s1);
    keys.release();
    const u1Shape = d1.shape;
    const u1 = this.upscaleNorm.forward(d1, undefined, 'gelu').reshape(u1Shape); // LN2d → GELU, one launch
    d1.release();
    const d0 = convTranspose2x2(g, u1, w.tensor('output_upscaling.3.weight'), w.tensor('output_upscaling.3.bias'), s0);
    u1.release();
    const u0 = unary(g, 'gelu', d0);
    d0.release();
    probe('decoder.upscaled', u0, 'hwc');
    const [mh, mw, c8] = u0.shape.slice(-3);

    // Token heads on hs: hypernetworks h_i = MLP_i(mask token i) → hyper_in [B, numMaskTokens, C/8],
    // the IoU head on the IoU token [B, numMaskTokens], the object-score head on token 0 (raw logit) [B].
    // Output token j of every object: rows b·T + j of hs.
    const tokenRows = (first: number, count: number): GpuTensor => gatherRows(g, hs, { rows: B, count: count * c, srcOffset: first * c, srcStride: t * c });
    const maskTokens = tokenRows(this.iouTokenIndex + 1, nM).reshape([B * nM, c]);
    const hyperIn = g.empty([B, nM, c8], act, 'hyper-in');
    const iou = g.empty(lead(nM), act, 'iou');
    const scoreShape = batched ? [B] : [1];
    const defaultScore = (): GpuTensor => uploadFloat(g, new Float32Array(B).fill(DEFAULT_OBJECT_SCORE), scoreShape, act, 'object-score');
    let objectScore: GpuTensor;
    if (this.hypernetworks.some((m) => m.outDim !== c8)) throw new Error(`hypernetworks output ${this.hypernetworks.map((m) => m.outDim)} channels, the upscaled embedding has ${c8}`);
    if (this.fusedHeads) {
      objectScore = this.objScoreHead ? g.empty(scoreShape, act, 'object-score') : defaultScore();
      this.fusedHeads.run(hs, this.objScoreHead ? [hyperIn, iou, objectScore] : [hyperIn, iou], B);
    } else {
      for (const [i, mlp] of this.hypernetworks.entries()) {
        const token = gatherRows(g, maskTokens, { rows: B, count: c, srcOffset: i * c, srcStride: nM * c });
        const h = mlp.forward(token);
        token.release();
        copyRows(g, h, hyperIn, { rows: B, count: c8, dstOffset: i * c8, dstStride: nM * c8 });
        h.release();
      }
      const iouToken = tokenRows(this.iouTokenIndex, 1);
      this.iouHead(iouToken, iou);
      iouToken.release();
      if (this.objScoreHead) {
        const objToken = tokenRows(0, 1);
        objectScore = this.objScoreHead(objToken, g.empty(scoreShape, act, 'object-score'));
        objToken.release();
      } else {
        objectScore = defaultScore();
      }
    }
    hs.release();

    // Masks m_i[p] = Σ_c h_i[c]·U0[p, c] per object: [B, numMaskTokens, 4F, 4F], channel-first
    const masks = g.empty(lead(nM, mh, mw), act, 'masks');
    matmul(g, hyperIn, u0.reshape([B, mh * mw, c8]), { transB: true }, masks.reshape([B, nM, mh * mw]));
    hyperIn.release();
    u0.release();

    probe('decoder.masks_all', masks, 'flat');
    probe('decoder.iou_all', iou, 'flat');
    probe('decoder.mask_tokens_out', maskTokens, 'tokens');
    probe('object_score_logits', objectScore, 'flat');
    return { masks, iou, maskTokens, objectScore };
  }
}
