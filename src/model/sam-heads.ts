// SAM heads of one frame: prompt encoder → mask decoder → the official output selection.
// Upstream: sam2/modeling/sam2_base.py (`_forward_sam_heads`, `_use_multimask`) and
// sam2/modeling/sam/mask_decoder.py (`MaskDecoder.forward` selection, `_dynamic_multimask_via_stability`,
// `_get_stability_scores`).
//
// The decoder runs entirely on the GPU. The decisions the official code takes on tensors (object
// score > 0, argmax IoU, stability ≥ threshold) are host decisions here: their inputs come back in
// one small readback per decode; everything selected from them stays on the GPU.
import { binary, unary } from '../kernels/elementwise/elementwise.js';
import { copyRange, maskStats, sliceCopy } from '../kernels/mask-select/mask-select.js';
import { resize } from '../kernels/resize/resize.js';
import type { Gpu } from '../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../runtime/tensor.js';
import type { Sam2Config } from './config.js';
import { Linear } from './layers/linear.js';
import { Mlp } from './layers/mlp.js';
import { linearHead, MaskDecoder, mlpHead, type HighResFeatures, type TokenHead } from './mask-decoder.js';
import type { Probe } from './probe.js';
import { PromptEncoder } from './prompt-encoder.js';
import { pointCount, PromptError, type SamPrompt } from './prompts.js';
import type { WeightScope } from './weights.js';

/** `NO_OBJ_SCORE`: the logit every mask pixel gets when the object is judged absent. */
export const NO_OBJ_SCORE = -1024.0;
/** `MLP(hidden_dim, hidden_dim, hidden_dim, 3)` of `obj_ptr_proj`. */
const OBJ_PTR_MLP_LAYERS = 3;

export interface SamHeadsOptions {
  /**
   * Multimask output (3 candidates + best IoU). Default: the official rule `_use_multimask`
   * (0 or 1 points, a box counting 2; tracked frames too).
   */
  multimask?: boolean;
  /** Whether this is an initial conditioning frame (only matters when multimask_output_for_tracking is off). Default true. */
  isInitCondFrame?: boolean;
}

/** `_forward_sam_heads` outputs. GPU tensors belong to the caller (see releaseSamHeadsOutput). */
export interface SamHeadsOutput {
  /** Gated mask logits of the M output masks, [M, 4F, 4F] (M = 3 multimask, else 1). */
  lowResMultimasks: GpuTensor;
  /** Predicted IoUs of those masks [M]. */
  ious: GpuTensor;
  /** The same IoUs on the host (they were read back for the decision anyway). */
  iouScores: Float32Array;
  /** Selected low-res mask logits [4F, 4F] (−1024 everywhere if the object is absent). */
  lowResMasks: GpuTensor;
  /** Bilinear (align_corners=False) upsample of lowResMasks to [S, S]. */
  highResMasks: GpuTensor;
  /** Object pointer [C] (`no_obj_ptr` when the object is absent). */
  objPtr: GpuTensor;
  objectScoreLogit: number;
  multimask: boolean;
  /** Argmax of the 3 multimask IoUs (first on ties); used by multimask and by the stability fallback. */
  bestIndex: number;
  /** Single-mask output with the dynamic fallback only: stability of mask 0 and the decision. */
  stabilityScore?: number;
  isStable?: boolean;
}

export function releaseSamHeadsOutput(o: SamHeadsOutput): void {
  for (const t of [o.lowResMultimasks, o.ious, o.lowResMasks, o.highResMasks, o.objPtr]) t.release();
}

/** `_use_multimask`: multimask for 0..1 points (a box counts 2) when the config enables it. */
export function useMultimask(cfg: Sam2Config, numPoints: number, isInitCondFrame: boolean): boolean {
  const f = cfg.flags;
  return (
    f.multimaskOutputInSam &&
    (isInitCondFrame || f.multimaskOutputForTracking) &&
    f.multimaskMinPtNum <= numPoints &&
    numPoints <= f.multimaskMaxPtNum
  );
}

/** First index of the maximum (torch.argmax on CPU returns the first on ties). */
function argmax(v: ArrayLike<number>, start: number, end: number): number {
  let best = start;
  for (let i = start + 1; i < end; i++) if (v[i] > v[best]) best = i;
  return best - start;
}

export class SamHeads {
  readonly promptEncoder: PromptEncoder;
  readonly maskDecoder: MaskDecoder;
  private readonly objPtrProj: TokenHead | null;
  private readonly dim: number;
  private readonly grid: number;
  private readonly lowRes: number;
  /** The decoder's weights with f32 activations (prompt encoder, object pointer, no_obj_ptr). */
  private readonly root: WeightScope;

  /**
   * `root` is the model's root scope (sam_prompt_encoder.*, sam_mask_decoder.*, obj_ptr_proj.*,
   * no_obj_ptr) with the decoder's precision. With f16 activations only the mask decoder runs in
   * f16 (the prompt encoder and the object-pointer head are tiny and stay f32; the weight formats
   * apply to all of them), and every output is f32.
   */
  constructor(
    private readonly gpu: Gpu,
    root: WeightScope,
    private readonly cfg: Sam2Config,
  ) {
    this.dim = cfg.hiddenDim;
    this.grid = cfg.imageEmbeddingSize;
    this.lowRes = 4 * cfg.imageEmbeddingSize;
    this.root = root.withActivations('f32');
    this.promptEncoder = new PromptEncoder(gpu, this.root.scope('sam_prompt_encoder'), cfg);
    this.maskDecoder = new MaskDecoder(gpu, root.scope('sam_mask_decoder'), cfg);
    const f = cfg.flags;
    // `obj_ptr_proj`: MLP(C, C, C, 3) (use_mlp_for_obj_ptr_proj) or a single Linear; nn.Identity
    // without object pointers.
    const projScope = this.root.scope('obj_ptr_proj');
    this.objPtrProj = !f.useObjPtrsInEncoder
      ? null
      : f.useMlpForObjPtrProj
        ? mlpHead(new Mlp(gpu, projScope, { numLayers: OBJ_PTR_MLP_LAYERS, act: 'relu' }))
        : linearHead(new Linear(gpu, projScope));
  }

  /** Frees what the heads cache (the image PE); weights belong to the WeightStore. */
  release(): void {
    this.promptEncoder.release();
  }

  /** The dense image PE [F·F, C] (constant; owned by the prompt encoder). */
  imagePe(): GpuTensor {
    return this.promptEncoder.denseImagePe();
  }

  private checkInputs(pix: GpuTensor, highRes: HighResFeatures | null, prompt: SamPrompt): void {
    const { dim: c, grid: f } = this;
    const want = (t: GpuTensor, shape: number[], what: string): void => {
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new PromptError(`SamHeads: ${what} is ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`);
      }
    };
    want(pix, [f, f, c], 'the image feature');
    if (highRes) {
      want(highRes.s0, [4 * f, 4 * f, c / 8], 'high-res feature s0');
      want(highRes.s1, [2 * f, 2 * f, c / 4], 'high-res feature s1');
    }
    if ((prompt.points === undefined) !== (prompt.labels === undefined)) {
      throw new PromptError('SamHeads: points and labels must be given together');
    }
    if (prompt.maskInput && prompt.maskInput.size !== this.lowRes * this.lowRes) {
      throw new PromptError(
        `SamHeads: mask prompt ${shapeStr(prompt.maskInput.shape)} must be low-res logits [${this.lowRes}, ${this.lowRes}] ` +
          '(resize a full-size mask with antialiased bilinear first)',
      );
    }
  }

  /**
   * `_forward_sam_heads(pix, points, mask, high_res, multimask)`. pix: [F, F, C] (conditioned
   * features); highRes: s0 [4F, 4F, C/8], s1 [2F, 2F, C/4]. Probe names follow the fixtures
   * without the `sam.caseK.` prefix (per-mode ones get `mm.` / `sm.`).
   */
  async forward(pix: GpuTensor, highRes: HighResFeatures | null, prompt: SamPrompt, opts: SamHeadsOptions = {}, probe?: Probe): Promise<SamHeadsOutput> {
    const g = this.gpu;
    const c = this.dim;
    const p = this.lowRes * this.lowRes;
    this.checkInputs(pix, highRes, prompt);
    const nPoints = pointCount(prompt);
    const multimask = opts.multimask ?? useMultimask(this.cfg, nPoints, opts.isInitCondFrame ?? true);
    const numMasks = this.maskDecoder.numMaskTokens;

    // (a, b) Prompt encoder: sparse tokens (host) and the dense prompt.
    const emb = this.promptEncoder.forward(prompt.points, prompt.labels, prompt.maskInput);
    const imagePe = this.imagePe();
    if (probe) {
      const sparse = g.upload(emb.sparse, [emb.numSparse, c], 'f32', 'prompt-sparse');
      probe('prompt.sparse', sparse, 'tokens');
      sparse.release();
      probe('prompt.dense', emb.dense, emb.denseOwned ? 'hwc' : 'flat');
      probe('image_pe', imagePe, 'tokens');
    }

    // (c) Mask decoder: all candidates, IoUs, mask tokens, object score.
    const dec = this.maskDecoder.forward(pix, imagePe, emb, highRes, probe);
    if (emb.denseOwned) emb.dense.release();

    // Host decisions, one readback: stability counts of mask 0 (single-mask output with the
    // dynamic fallback only; thresholds ±delta on the logits before gating), IoUs, object score.
    const sh = this.cfg.samHeads;
    const dynamic = !multimask && sh.dynamicMultimaskViaStability;
    const delta = sh.dynamicMultimaskStabilityDelta;
    const packet = maskStats(g, { map: dec.masks, mapOffset: 0, mapCount: dynamic ? p : 0, hi: delta, lo: -delta, a: dec.iou, b: dec.objectScore });
    const raw = await g.readRaw(packet);
    packet.release();
    const counts = new Uint32Array(raw, 0, 2);
    const values = new Float32Array(raw, 8, numMasks + 1);
    const iouAll = values.slice(0, numMasks);
    const objectScoreLogit = values[numMasks];
    const present = !this.cfg.flags.predObjScores || objectScoreLogit > 0;
    const bestIndex = numMasks > 1 ? argmax(iouAll, 1, numMasks) : 0;

    // Selection (`MaskDecoder.forward` + `_forward_sam_heads`): which masks and which token.
    let first: number; // first selected mask
    let count: number; // number of output masks M
    let tokenIndex = 0;
    let stabilityScore: number | undefined;
    let isStable: boolean | undefined;
    if (multimask) {
      first = 1;
      count = numMasks - 1;
      if (this.cfg.flags.useMultimaskTokenForObjPtr) tokenIndex = 1 + bestIndex;
    } else if (dynamic) {
      // area_i / area_u in float32 (1.0 if nothing is above −delta); stable ⇒ keep mask 0.
      const [areaI, areaU] = [counts[0], counts[1]];
      stabilityScore = areaU > 0 ? Math.fround(Math.fround(areaI) / Math.fround(areaU)) : 1.0;
      isStable = stabilityScore >= Math.fround(sh.dynamicMultimaskStabilityThresh);
      first = isStable ? 0 : 1 + bestIndex;
      count = 1;
    } else {
      first = 0;
      count = 1;
    }
    const selected = multimask ? 1 + bestIndex : first;

    // Object-score gating: where(present, masks, −1024), then the chosen mask.
    const fill = present ? undefined : NO_OBJ_SCORE;
    const lowResMultimasks = sliceCopy(g, dec.masks, [count, this.lowRes, this.lowRes], first * p, fill);
    const ious = sliceCopy(g, dec.iou, [count], first);
    const iouScores = iouAll.slice(first, first + count);
    const lowResMasks = sliceCopy(g, dec.masks, [this.lowRes, this.lowRes], selected * p, fill);
    dec.masks.release();
    dec.iou.release();
    dec.objectScore.release();

    // High-res mask: bilinear (align_corners=False, no antialias) to S×S.
    const s = this.cfg.imageSize;
    const highResMasks = g.empty([s, s], 'f32', 'high-res-masks');
    resize(g, 'bilinear', lowResMasks.reshape([this.lowRes, this.lowRes, 1]), [s, s], highResMasks.reshape([s, s, 1]));

    // Object pointer from the chosen output token; `no_obj_ptr` where the object is absent.
    const token = sliceCopy(g, dec.maskTokens, [1, c], tokenIndex * c);
    const objPtr = this.objectPointer(token, present, objectScoreLogit);

    if (probe) {
      const mode = multimask ? 'mm' : 'sm';
      probe(`${mode}.low_res_multimasks`, lowResMultimasks, 'flat');
      probe(`${mode}.ious`, ious, 'flat');
      probe(`${mode}.low_res_masks`, lowResMasks, 'flat');
      probe(`${mode}.high_res_masks`, highResMasks, 'flat');
      const useMulti = multimask && this.cfg.flags.useMultimaskTokenForObjPtr;
      const outTokens = sliceCopy(g, dec.maskTokens, [useMulti ? numMasks - 1 : 1, c], useMulti ? c : 0);
      probe(`${mode}.sam_output_tokens`, outTokens, 'tokens');
      outTokens.release();
      probe(`${mode}.obj_ptr_token`, token, 'tokens');
      probe(`${mode}.obj_ptr`, objPtr, 'flat');
    }
    token.release();
    dec.maskTokens.release();

    return {
      lowResMultimasks,
      ious,
      iouScores,
      lowResMasks,
      highResMasks,
      objPtr,
      objectScoreLogit,
      multimask,
      bestIndex,
      stabilityScore,
      isStable,
    };
  }

  /**
   * obj_ptr = obj_ptr_proj(token); with an object-score head: λ·ptr + (1−λ)·no_obj_ptr where λ is
   * (present ? 1 : 0), or σ(score) with soft_no_obj_ptr; without fixed_no_obj_ptr the first term is
   * not scaled. λ ∈ {0, 1} (every official config) makes this an exact selection.
   */
  private objectPointer(token: GpuTensor, present: boolean, score: number): GpuTensor {
    const g = this.gpu;
    const c = this.dim;
    const f = this.cfg.flags;
    const proj = (): GpuTensor => {
      const out = g.empty([c], 'f32', 'obj-ptr');
      return this.objPtrProj ? this.objPtrProj(token, out) : copyRange(g, token, out);
    };
    if (!f.predObjScores) return proj();
    const noObjPtr = this.root.tensor('no_obj_ptr').reshape([c]);
    if (!f.softNoObjPtr) {
      if (present) return proj();
      if (f.fixedNoObjPtr) return sliceCopy(g, noObjPtr, [c]);
      const ptr = proj();
      const out = binary(g, 'add', ptr, noObjPtr);
      ptr.release();
      return out;
    }
    const lambda = Math.fround(1 / (1 + Math.exp(-score)));
    const ptr = proj();
    const scaled = f.fixedNoObjPtr ? unary(g, 'identity', ptr, undefined, lambda) : ptr;
    const rest = unary(g, 'identity', noObjPtr, undefined, Math.fround(1 - lambda));
    const out = binary(g, 'add', scaled, rest);
    if (scaled !== ptr) scaled.release();
    ptr.release();
    rest.release();
    return out;
  }
}
