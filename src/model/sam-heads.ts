// SAM heads of one frame: prompt encoder → mask decoder → the official output selection.
// Upstream: sam2/modeling/sam2_base.py (`_forward_sam_heads`, `_use_multimask`) and
// sam2/modeling/sam/mask_decoder.py (`MaskDecoder.forward` selection, `_dynamic_multimask_via_stability`,
// `_get_stability_scores`).
//
// The decoder and the decisions the official code takes on tensors (object score > 0, argmax IoU,
// stability ≥ threshold) run on the GPU: a flag record drives the selection, so `record` needs no
// readback; `forward` reads the flag record back for the host fields.
import { decide, FLAG, gather, objPtrBlend, type SelectMode } from '../kernels/decisions/decisions.js';
import { copyRange, sliceCopy } from '../kernels/mask-select/mask-select.js';
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

/**
 * `_forward_sam_heads` recorded on the GPU only (`SamHeads.record`): the outputs of
 * SamHeadsOutput without their host fields, and the flag record they were selected by.
 */
export interface SamHeadsRecord extends Pick<SamHeadsOutput, 'lowResMultimasks' | 'ious' | 'lowResMasks' | 'highResMasks' | 'objPtr' | 'multimask'> {
  /** Decision flags u32 [B, flagStride(numMasks)] (src/kernels/decisions: FLAG; B = 1 unbatched). */
  flags: GpuTensor;
  /** Candidate masks of the decoder (numMaskTokens). */
  numMasks: number;
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
    // Uploads wait for the fused token paths to claim their layers, so those stay off the GPU.
    this.maskDecoder = root.store.deferUploads(() => new MaskDecoder(gpu, root.scope('sam_mask_decoder'), cfg));
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
    this.maskDecoder.release();
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
    if (pix.shape.length === 4) want(pix, [pix.shape[0], f, f, c], 'the batch of image features');
    else want(pix, [f, f, c], 'the image feature');
    if (!(pix.shape.length === 3 || pix.shape[0] >= 1)) throw new PromptError(`SamHeads: empty batch ${shapeStr(pix.shape)}`);
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
   * `_forward_sam_heads(pix, points, mask, high_res, multimask)` recorded without any readback: the
   * decisions (best mask, stability fallback, object presence) are taken on the GPU into a flag
   * record (src/kernels/decisions) that the selection and later steps read. pix: [F, F, C]
   * (conditioned features); highRes: s0 [4F, 4F, C/8], s1 [2F, 2F, C/4]. Probe names follow the
   * fixtures without the `sam.caseK.` prefix (per-mode ones get `mm.` / `sm.`).
   *
   * pix [B, F, F, C] runs B objects on one slice as one chain (they share the skips and the prompt,
   * as tracked slices do): every output gets a leading object dimension (flags [B, stride],
   * lowResMultimasks [B, M, 4F, 4F], ious [B, M], lowResMasks [B, 4F, 4F], highResMasks [B, S, S],
   * objPtr [B, C]) and item b equals `record` on pix[b]. Probes need an unbatched pix.
   */
  record(pix: GpuTensor, highRes: HighResFeatures | null, prompt: SamPrompt, opts: SamHeadsOptions = {}, probe?: Probe): SamHeadsRecord {
    const g = this.gpu;
    const c = this.dim;
    const low = this.lowRes;
    this.checkInputs(pix, highRes, prompt);
    const batched = pix.shape.length === 4;
    const B = batched ? pix.shape[0] : 1;
    if (batched && probe) throw new PromptError('SamHeads: probes need one object (pix [F, F, C])');
    const lead = (...shape: number[]): number[] => (batched ? [B, ...shape] : shape);
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

    // (c) Mask decoder: all candidates, IoUs, mask tokens, object score (per object).
    const dec = this.maskDecoder.forward(pix, imagePe, emb, highRes, probe);
    if (emb.denseOwned) emb.dense.release();

    // Decisions on the GPU (`MaskDecoder.forward` selection + `_forward_sam_heads` gating): the
    // stability of mask 0 (single-mask output with the dynamic fallback; thresholds ±delta on the
    // logits before gating), argmax IoU, object score > 0; one flag record per object.
    const sh = this.cfg.samHeads;
    const f = this.cfg.flags;
    const mode: SelectMode = multimask ? 'multimask' : sh.dynamicMultimaskViaStability ? 'dynamic' : 'single';
    const masks = dec.masks.reshape([B, numMasks, low, low]);
    const flags = decide(g, masks, dec.iou.reshape([B, numMasks]), dec.objectScore.reshape([B, 1]), {
      mode,
      delta: sh.dynamicMultimaskStabilityDelta,
      thresh: sh.dynamicMultimaskStabilityThresh,
      predObjScores: f.predObjScores,
      multimaskToken: f.useMultimaskTokenForObjPtr,
      softNoObjPtr: f.softNoObjPtr,
    });

    // Selection and gating: where(present, masks, −1024), the M output masks and the chosen one.
    const count = multimask ? numMasks - 1 : 1;
    const gate = f.predObjScores ? NO_OBJ_SCORE : undefined;
    const lowResMultimasks = gather(g, masks, flags, { field: 'first', count, gateFill: gate }, 'low-res-multimasks').reshape(lead(count, low, low));
    const ious = gather(g, dec.iou.reshape([B, numMasks]), flags, { field: 'first', count }, 'ious').reshape(lead(count));
    const lowResMasks = gather(g, masks, flags, { field: 'selected', count: 1, gateFill: gate }, 'low-res-masks').reshape(lead(low, low));
    dec.masks.release();
    dec.iou.release();
    dec.objectScore.release();

    // High-res mask: bilinear (align_corners=False, no antialias) to S×S.
    const s = this.cfg.imageSize;
    const highResMasks = g.empty(lead(s, s), 'f32', 'high-res-masks');
    resize(g, 'bilinear', lowResMasks.reshape([B, low, low, 1]), [s, s], highResMasks.reshape([B, s, s, 1]));

    // Object pointer from the chosen output token; `no_obj_ptr` where the object is absent.
    const token = gather(g, dec.maskTokens.reshape([B, numMasks, c]), flags, { field: 'token', count: 1 }, 'obj-ptr-token').reshape([B, c]);
    const objPtr = this.objectPointer(token, flags).reshape(lead(c));

    if (probe) {
      const m = multimask ? 'mm' : 'sm';
      probe(`${m}.low_res_multimasks`, lowResMultimasks, 'flat');
      probe(`${m}.ious`, ious, 'flat');
      probe(`${m}.low_res_masks`, lowResMasks, 'flat');
      probe(`${m}.high_res_masks`, highResMasks, 'flat');
      const useMulti = multimask && f.useMultimaskTokenForObjPtr;
      const outTokens = sliceCopy(g, dec.maskTokens, [useMulti ? numMasks - 1 : 1, c], useMulti ? c : 0);
      probe(`${m}.sam_output_tokens`, outTokens, 'tokens');
      outTokens.release();
      probe(`${m}.obj_ptr_token`, token, 'tokens');
      probe(`${m}.obj_ptr`, objPtr, 'flat');
    }
    token.release();
    dec.maskTokens.release();
    return { flags, lowResMultimasks, ious, lowResMasks, highResMasks, objPtr, multimask, numMasks };
  }

  /**
   * `record` plus one small readback of the flag record for the host fields (IoUs, object score,
   * the decisions taken). For prompts; propagation reads the flags later with the masks.
   */
  async forward(pix: GpuTensor, highRes: HighResFeatures | null, prompt: SamPrompt, opts: SamHeadsOptions = {}, probe?: Probe): Promise<SamHeadsOutput> {
    if (pix.shape.length !== 3) throw new PromptError(`SamHeads.forward: one object at a time (pix [F, F, C], got ${shapeStr(pix.shape)}); batches go through record`);
    const r = this.record(pix, highRes, prompt, opts, probe);
    const words = new Uint32Array(await this.gpu.readRaw(r.flags));
    r.flags.release();
    const { flags: _flags, numMasks: _n, ...rest } = r;
    return { ...rest, ...readDecisions(words, 0, r.numMasks, r.multimask, this.cfg) };
  }

  /**
   * token [B, C] → [B, C]: obj_ptr = obj_ptr_proj(token); with an object-score head: λ·ptr + (1−λ)·no_obj_ptr where λ is
   * (present ? 1 : 0), or σ(score) with soft_no_obj_ptr; without fixed_no_obj_ptr the first term is
   * not scaled (λ from the flag record). λ ∈ {0, 1} (every official config) makes this an exact selection.
   */
  private objectPointer(token: GpuTensor, flags: GpuTensor): GpuTensor {
    const g = this.gpu;
    const [b, c] = token.shape;
    const f = this.cfg.flags;
    const ptr = g.empty([b, c], 'f32', 'obj-ptr');
    if (this.objPtrProj) this.objPtrProj(token, ptr);
    else copyRange(g, token, ptr);
    if (!f.predObjScores) return ptr;
    const noObjPtr = this.root.tensor('no_obj_ptr').reshape([c]);
    const out = objPtrBlend(g, ptr, noObjPtr, flags, f.fixedNoObjPtr);
    ptr.release();
    return out;
  }
}

/** The host fields of one object's flag record (words from `record`'s flags, record k at k·stride). */
export function readDecisions(
  words: Uint32Array,
  offset: number,
  numMasks: number,
  multimask: boolean,
  cfg: Sam2Config,
): Pick<SamHeadsOutput, 'iouScores' | 'objectScoreLogit' | 'bestIndex' | 'stabilityScore' | 'isStable'> {
  const bits = new Float32Array(words.buffer, words.byteOffset, words.length);
  const first = words[offset + FLAG.first];
  const count = multimask ? numMasks - 1 : 1;
  const dynamic = !multimask && cfg.samHeads.dynamicMultimaskViaStability;
  return {
    iouScores: bits.slice(offset + FLAG.iou + first, offset + FLAG.iou + first + count),
    objectScoreLogit: bits[offset + FLAG.score],
    bestIndex: words[offset + FLAG.best],
    stabilityScore: dynamic ? bits[offset + FLAG.stability] : undefined,
    isStable: dynamic ? words[offset + FLAG.stable] === 1 : undefined,
  };
}
