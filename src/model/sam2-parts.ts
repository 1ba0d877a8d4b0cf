// What the video predictor needs from the model, as one interface: image features per slice and
// the four per-object chain steps. `Sam2Model` (sam2-model.ts) implements it with the GPU modules.
import type { GpuTensor } from '../runtime/tensor.js';
import type { Sam2Config } from './config.js';

/** One slice's image-encoder output, kept on the GPU while the chain needs it. */
export interface ImageFeatures {
  /** conv_s0(neck level 0): [S/4, S/4, C/8]. */
  s0: GpuTensor;
  /** conv_s1(neck level 1): [S/8, S/8, C/4]. */
  s1: GpuTensor;
  /** Neck level 2 (the raw backbone feature): [F, F, C]. */
  l2: GpuTensor;
}

export interface PromptInput {
  /** Point coordinates in model pixels (x, y interleaved), box corners first (labels 2, 3). */
  points?: Float32Array;
  labels?: Int32Array;
  /** Dense mask prompt: low-res logits [4F, 4F] (previous output clamped to ±32, or a mask). */
  maskInput?: GpuTensor;
}

export interface HeadsOutput {
  /** Selected low-res mask logits [4F, 4F] after object-score gating. */
  lowResMasks: GpuTensor;
  /** Bilinear upsample of lowResMasks to [S, S]. */
  highResMasks: GpuTensor;
  /** [C] object pointer (no_obj_ptr where the object is absent). */
  objPtr: GpuTensor;
  objectScoreLogit: number;
  /** Predicted IoU of each output mask (3 with multimask, else 1). */
  ious: Float32Array;
}

/** `decode` recorded without a readback: the host fields stay in the flag record on the GPU. */
export interface GpuHeadsOutput extends Pick<HeadsOutput, 'lowResMasks' | 'highResMasks' | 'objPtr'> {
  /** Decision flags u32 [1, flagStride(numMasks)] (src/kernels/decisions: FLAG; IoUs, object score). */
  flags: GpuTensor;
  numMasks: number;
  multimask: boolean;
}

export interface Sam2Parts {
  readonly config: Sam2Config;
  /** Preprocessed slice [S, S, 3] → features (the caller releases them). */
  encodeImage(image: GpuTensor): ImageFeatures;
  /** Several preprocessed slices encoded as one batch; each result equals encodeImage's (optional). */
  encodeImages?(images: readonly GpuTensor[]): ImageFeatures[];
  /** Initial conditioning frame: feat + no_mem_embed, [F, F, C]. */
  addNoMemEmbed(l2: GpuTensor): GpuTensor;
  /** Memory attention: [F, F, C] conditioned on memory tokens. */
  attendMemory(l2: GpuTensor, memory: GpuTensor, memoryPos: GpuTensor, numObjPtrTokens: number): GpuTensor;
  /** Prompt encoder + mask decoder + official selection (`_forward_sam_heads`). */
  decode(pix: GpuTensor, feats: ImageFeatures, prompt: PromptInput, multimask: boolean): Promise<HeadsOutput>;
  /** `decode` with no host round trip (propagation): every output stays on the GPU. */
  decodeOnGpu(pix: GpuTensor, feats: ImageFeatures, prompt: PromptInput, multimask: boolean): GpuHeadsOutput;
  /**
   * `decodeOnGpu` of B objects on one slice as one chain: pix [B, F, F, C], the prompt shared (tracked
   * slices: none). Outputs stack the objects: lowResMasks [B, 4F, 4F], highResMasks [B, S, S],
   * objPtr [B, C], flags [B, stride]; item b equals `decodeOnGpu(pix[b], ...)`.
   */
  decodeBatchOnGpu(pix: GpuTensor, feats: ImageFeatures, prompt: PromptInput, multimask: boolean): GpuHeadsOutput;
  /** `_use_mask_as_output`: a binary [S, S] mask prompt becomes the output directly. */
  maskAsOutput(feats: ImageFeatures, mask: GpuTensor): Promise<HeadsOutput>;
  /**
   * The high-res masks `decode` derives from its low-res ones (bilinear to [S, S]), recomputed from
   * low-res logits kept on the host: a resumed propagation re-encodes memories from them.
   */
  upsampleLowRes(lowRes: GpuTensor): GpuTensor;
  /**
   * `_encode_new_memory`: [F*F, memDim] f32 (before the bank's bf16 rounding). Presence: the
   * object-score logit, or the decision flags of `decodeOnGpu`.
   */
  encodeMemory(l2: GpuTensor, highResMasks: GpuTensor, binarize: boolean, objectScoreLogit: number | GpuTensor): GpuTensor;
  /**
   * Several objects on one slice as one chain (leading batch dimension B = objects); item b of
   * each equals the per-object step on object b.
   * Memory attention: memory / memoryPos stack B memories of the same shape [B·M, memDim] → [B, F, F, C].
   */
  attendMemoryBatch(l2: GpuTensor, memory: GpuTensor, memoryPos: GpuTensor, batch: number, numObjPtrTokens: number): GpuTensor;
  /**
   * `encodeMemory` of B objects' masks on one slice → [B·F·F, memDim] f32: one entry per object, or
   * the stacked masks [B, S, S] and flags [B, stride] of `decodeBatchOnGpu`.
   */
  encodeMemoryBatch(
    l2: GpuTensor,
    objects: ReadonlyArray<{ highResMasks: GpuTensor; binarize: boolean; objectScoreLogit: number | GpuTensor }> | { highResMasks: GpuTensor; binarize: boolean; flags: GpuTensor },
  ): GpuTensor;
  /** Memory sine PE [F*F, memDim] and the GPU memory-bank inputs shared by all objects. */
  readonly maskmemPos: GpuTensor;
}
