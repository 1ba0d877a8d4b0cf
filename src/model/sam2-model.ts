// SAM 2 on the GPU: loads a safetensors checkpoint (official state_dict names), checks it against
// the configuration, and wires the modules — image encoder, memory attention, SAM heads, memory
// encoder — into the per-slice steps the video predictor drives (Sam2Parts).
//
//   const model = await Sam2Model.load(gpu, bytes);          // config from the file's metadata
//   const q = await Sam2Model.load(gpu, bytes, { precision: 'encoder=int4-g64,act=f16' }); // see precision.ts
//   const feats = model.encodeImage(model.preprocess(slice)); // stays on the GPU
//   const out = await model.decode(model.addNoMemEmbed(feats.l2), feats, { points, labels }, true);
import { binary, unary } from '../kernels/elementwise/elementwise.js';
import { conv2d } from '../kernels/conv/conv.js';
import { resize } from '../kernels/resize/resize.js';
import { parseSafetensors, SafetensorsFile } from '../io/safetensors.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { configFromMetadata, type Sam2Config } from './config.js';
import { ImageEncoder } from './image-encoder.js';
import { MemoryAttention } from './memory-attention.js';
import { MemoryEncoder } from './memory-encoder.js';
import { ImagePreprocessor, type SliceImage } from './preprocess.js';
import { noProbe, type Probe } from './probe.js';
import { SamHeads } from './sam-heads.js';
import type { GpuHeadsOutput, HeadsOutput, ImageFeatures, PromptInput, Sam2Parts } from './sam2-parts.js';
import { sinePositionEncodingF32 } from '../kernels/position/position-f32.js';
import { stateDictSpec } from './state-dict-spec.js';
import { validateCheckpoint, WeightStore, type WeightScope } from './weights.js';
import { precisionLabel, resolvePrecision, usesF16Activations, withF32Activations, type ModelPrecision, type PrecisionOptions } from './precision.js';

export interface Sam2LoadOptions {
  /** The model configuration; default: the one in the file's metadata. */
  config?: Sam2Config;
  /** Per-component activation and weight precision (precision.ts), or its text form. Default: f32 activations, weights as stored. */
  precision?: PrecisionOptions | string;
  /**
   * Without shader-f16, run f16 activations in f32 with a warning instead of failing. Weight
   * formats (f16, bf16, int8, int4) never need the feature.
   */
  fallback?: boolean;
}

/** Resolves a precision for this adapter: f16 activations need shader-f16 (error, or f32 with a warning under `fallback`). */
export function precisionForAdapter(gpu: Gpu, precision: PrecisionOptions | string | undefined, fallback = false): ModelPrecision {
  const p = resolvePrecision(precision);
  if (!usesF16Activations(p) || gpu.features.f16) return p;
  const msg = `f16 activations need the WebGPU feature "shader-f16", which this adapter (${gpu.adapterName}) does not offer`;
  if (!fallback) throw new Error(`precision ${precisionLabel(p)}: ${msg}; use f32 activations, or pass { fallback: true } (--precision-fallback) to run them in f32`);
  console.warn(`sam2-webgpu: ${msg}; running activations in f32`);
  return withF32Activations(p);
}

/**
 * SAM 2 / SAM 2.1 on the GPU, loaded from a safetensors checkpoint with `Sam2Model.load`. Holds the
 * weights and the image encoder, memory attention, SAM heads and memory encoder; a video session
 * (`Sam2Video.create(model, ...)`) drives them slice by slice. `release()` frees its GPU memory.
 */
export class Sam2Model implements Sam2Parts {
  /** @internal The checkpoint's tensors on the GPU. */
  readonly weights: WeightStore;
  /** @internal Weight scope at the state_dict root. */
  readonly root: WeightScope;
  /** @internal Hiera trunk + FPN neck. */
  readonly imageEncoder: ImageEncoder;
  /** @internal Prompt encoder + mask decoder. */
  readonly heads: SamHeads;
  /** @internal Memory attention. */
  readonly memoryAttention: MemoryAttention;
  /** @internal Memory encoder. */
  readonly memoryEncoder: MemoryEncoder;
  /** @internal GPU slice preprocessing. */
  readonly preprocessor: ImagePreprocessor;
  readonly maskmemPos: GpuTensor;
  private readonly noMemEmbed: GpuTensor;
  private readonly noObjPtr: GpuTensor;
  private readonly F: number;

  private constructor(
    readonly gpu: Gpu,
    file: SafetensorsFile,
    readonly config: Sam2Config,
    /** The precision each component runs at (resolved for this adapter). */
    readonly precision: ModelPrecision,
  ) {
    validateCheckpoint(file, stateDictSpec(config), `checkpoint (${config.arch} @ ${config.imageSize} px)`);
    this.weights = new WeightStore(gpu, file, { minQuantElements: precision.minQuantElements });
    this.root = this.weights.scope('');
    this.F = config.imageEmbeddingSize;
    const p = precision.components;
    this.imageEncoder = new ImageEncoder(gpu, this.root.withPrecision(p.encoder), config);
    this.heads = new SamHeads(gpu, this.root.withPrecision(p.decoder), config);
    this.memoryAttention = new MemoryAttention(gpu, this.root.withPrecision(p.memattn), config);
    this.memoryEncoder = new MemoryEncoder(gpu, this.root.withPrecision(p.memenc), config);
    this.preprocessor = new ImagePreprocessor(gpu, config.imageSize);
    const pos = config.memoryEncoder.positionEncoding;
    const pe = sinePositionEncodingF32(this.F, this.F, pos.numPosFeats, pos.temperature, pos.scale ?? 2 * Math.PI);
    this.maskmemPos = gpu.upload(pe, [this.F * this.F, config.memDim], 'f32', 'maskmem_pos_enc');
    this.noMemEmbed = this.root.tensor('no_mem_embed').reshape([config.hiddenDim]);
    this.noObjPtr = this.root.tensor('no_obj_ptr').reshape([config.hiddenDim]);
  }

  /**
   * Loads a checkpoint. The configuration comes from `opts.config` (or a config given directly as
   * the third argument), else from the file's metadata (written by `sam2-webgpu convert` /
   * `synth`); a missing, unexpected or misshapen tensor is an error naming it. `opts.precision`
   * sets activations and weight formats per component; an f32 file is quantized at load time.
   */
  static async load(gpu: Gpu, weights: Uint8Array | SafetensorsFile, opts: Sam2LoadOptions | Sam2Config = {}): Promise<Sam2Model> {
    const o: Sam2LoadOptions = 'arch' in opts && 'imageSize' in opts ? { config: opts as Sam2Config } : (opts as Sam2LoadOptions);
    const precision = precisionForAdapter(gpu, o.precision, o.fallback);
    const file = weights instanceof SafetensorsFile ? weights : parseSafetensors(weights);
    const cfg = o.config ?? configFromMetadata(file.metadata);
    if (!cfg) {
      throw new Error(
        'the checkpoint carries no SAM 2 configuration in its metadata: convert it with `sam2-webgpu convert` ' +
          'or pass a config (makeConfig("sam2.1_hiera_t", { imageSize }))',
      );
    }
    const model = new Sam2Model(gpu, file, cfg, precision);
    await gpu.sync();
    return model;
  }

  /** A uint8 slice of any size → the model input [S, S, 3]. */
  preprocess(slice: SliceImage): GpuTensor {
    return this.preprocessor.run(slice);
  }

  encodeImage(image: GpuTensor, probe: Probe = noProbe): ImageFeatures {
    return this.imageEncoder.encode(image, probe);
  }

  encodeImages(images: readonly GpuTensor[]): ImageFeatures[] {
    return this.imageEncoder.encodeBatch(images);
  }

  addNoMemEmbed(l2: GpuTensor): GpuTensor {
    return binary(this.gpu, 'add', l2, this.noMemEmbed);
  }

  attendMemory(l2: GpuTensor, memory: GpuTensor, memoryPos: GpuTensor, numObjPtrTokens: number): GpuTensor {
    const { F } = this;
    const C = this.config.hiddenDim;
    const out = this.memoryAttention.forward(l2.reshape([F * F, C]), this.imageEncoder.posL2.reshape([F * F, C]), memory, memoryPos, numObjPtrTokens);
    return out.reshape([F, F, C]);
  }

  attendMemoryBatch(l2: GpuTensor, memory: GpuTensor, memoryPos: GpuTensor, batch: number, numObjPtrTokens: number): GpuTensor {
    const { F } = this;
    const C = this.config.hiddenDim;
    const pos = this.imageEncoder.posL2.reshape([F * F, C]);
    const out = this.memoryAttention.forwardBatch(l2.reshape([F * F, C]), pos, memory, memoryPos, batch, numObjPtrTokens);
    return out.reshape([batch, F, F, C]);
  }

  encodeMemoryBatch(
    l2: GpuTensor,
    objects: ReadonlyArray<{ highResMasks: GpuTensor; binarize: boolean; objectScoreLogit: number | GpuTensor }> | { highResMasks: GpuTensor; binarize: boolean; flags: GpuTensor },
  ): GpuTensor {
    return this.memoryEncoder.forwardBatch(l2, objects);
  }

  async decode(pix: GpuTensor, feats: ImageFeatures, prompt: PromptInput, multimask: boolean): Promise<HeadsOutput> {
    const o = await this.heads.forward(pix, { s0: feats.s0, s1: feats.s1 }, prompt, { multimask });
    o.lowResMultimasks.release();
    o.ious.release();
    return { lowResMasks: o.lowResMasks, highResMasks: o.highResMasks, objPtr: o.objPtr, objectScoreLogit: o.objectScoreLogit, ious: o.iouScores };
  }

  decodeBatchOnGpu(pix: GpuTensor, feats: ImageFeatures, prompt: PromptInput, multimask: boolean): GpuHeadsOutput {
    if (pix.shape.length !== 4) throw new Error(`decodeBatchOnGpu: pix ${pix.shape.join('×')} must be [B, F, F, C]`);
    return this.decodeOnGpu(pix, feats, prompt, multimask);
  }

  decodeOnGpu(pix: GpuTensor, feats: ImageFeatures, prompt: PromptInput, multimask: boolean): GpuHeadsOutput {
    const o = this.heads.record(pix, { s0: feats.s0, s1: feats.s1 }, prompt, { multimask });
    o.lowResMultimasks.release();
    o.ious.release();
    return { lowResMasks: o.lowResMasks, highResMasks: o.highResMasks, objPtr: o.objPtr, flags: o.flags, numMasks: o.numMasks, multimask: o.multimask };
  }

  /**
   * Upstream `_use_mask_as_output`: the mask (0/1, [S, S]) becomes the output logits (·20 − 10,
   * antialiased down to 4F × 4F); the pointer is decoded from the raw features with the
   * `mask_downsample` of the mask as dense prompt; an empty mask means the object is absent.
   */
  async maskAsOutput(feats: ImageFeatures, mask: GpuTensor): Promise<HeadsOutput> {
    const { gpu, config } = this;
    const S = config.imageSize;
    const low = config.lowResMaskSize;
    const highRes = unary(gpu, 'identity', mask.reshape([S, S]), undefined, 20, -10);
    const lowRes = resize(gpu, 'bilinear-aa', highRes.reshape([S, S, 1]), [low, low]).reshape([low, low]);
    const maskHost = await gpu.read(mask);
    const present = maskHost.some((v) => v > 0);
    let objPtr: GpuTensor;
    if (config.flags.useObjPtrsInEncoder) {
      const md = conv2d(gpu, mask.reshape([S, S, 1]), this.root.tensor('mask_downsample.weight'), this.root.tensor('mask_downsample.bias'), { stride: 4 });
      const o = await this.heads.forward(feats.l2, { s0: feats.s0, s1: feats.s1 }, { maskInput: md.reshape([low, low]) }, { multimask: false });
      md.release();
      objPtr = o.objPtr;
      for (const t of [o.lowResMultimasks, o.ious, o.lowResMasks, o.highResMasks]) t.release();
    } else {
      objPtr = gpu.upload(new Float32Array(config.hiddenDim), [config.hiddenDim]);
    }
    if (!present && config.flags.predObjScores) {
      objPtr.release();
      objPtr = gpu.clone(this.noObjPtr);
    }
    return { lowResMasks: lowRes, highResMasks: highRes, objPtr, objectScoreLogit: present ? 10 : -10, ious: new Float32Array([1]) };
  }

  upsampleLowRes(lowRes: GpuTensor): GpuTensor {
    const S = this.config.imageSize;
    const low = this.config.lowResMaskSize;
    // The same kernel and shapes as SamHeads' high_res_masks, so the result is bit-identical.
    const out = this.gpu.empty([S, S], 'f32', 'high-res-masks');
    resize(this.gpu, 'bilinear', lowRes.reshape([low, low, 1]), [S, S], out.reshape([S, S, 1]));
    return out;
  }

  encodeMemory(l2: GpuTensor, highResMasks: GpuTensor, binarize: boolean, objectScoreLogit: number | GpuTensor): GpuTensor {
    return this.memoryEncoder.forward({ pixFeat: l2, highResMasks, binarize, objectScoreLogit });
  }

  /** Frees the model's GPU memory (weights, position encodings); the model cannot be used afterwards. */
  release(): void {
    this.imageEncoder.release();
    this.heads.release();
    this.preprocessor.release();
    this.maskmemPos.release();
    this.weights.release();
  }
}
