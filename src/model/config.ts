// SAM 2 / SAM 2.1 model configuration: every hyperparameter inference needs, presets for the
// official sizes, and `configFromOfficial`, which builds a config from the resolved Hydra `model:`
// dict with the upstream class defaults applied.
// Upstream: sam2/configs/sam2{,.1}/*.yaml, sam2/build_sam.py, sam2/modeling/sam2_base.py
// (SAM2Base.__init__, _build_sam_heads), backbones/hieradet.py (Hiera block schedule),
// backbones/image_encoder.py, memory_attention.py, memory_encoder.py, sam/transformer.py,
// sam/mask_decoder.py, sam/prompt_encoder.py, sam2_video_predictor.py.

export type Sam2Version = '2.0' | '2.1';

/** Hiera trunk hyperparameters (`Hiera.__init__`). */
export interface HieraSpec {
  embedDim: number;
  numHeads: number;
  stages: number[];
  globalAttBlocks: number[];
  windowSpec: number[];
  windowPosEmbedBkgSpatialSize: [number, number];
  qPool: number;
  qStride: [number, number];
  dimMul: number;
  headMul: number;
  /** MultiScaleBlock default; Hiera never overrides it. */
  mlpRatio: number;
}

/** One Hiera block as `Hiera.__init__` instantiates it. */
export interface HieraBlock {
  index: number;
  /** 0-based stage the block belongs to (by `stage_ends`). */
  stage: number;
  dim: number;
  dimOut: number;
  numHeads: number;
  /** 0 = global attention. The first block of a stage uses the previous stage's window. */
  windowSize: number;
  /** Set on q-pool (stage transition) blocks. */
  qStride: [number, number] | null;
  globalAttention: boolean;
  mlpHiddenDim: number;
  /** dim != dimOut: the block has the shortcut projection `proj`. */
  hasProj: boolean;
}

export interface HieraDerived {
  blocks: HieraBlock[];
  stageEnds: number[];
  qPoolBlocks: number[];
  /** Output dims of the stage ends, coarsest first (upstream `channel_list`). */
  channelList: number[];
}

/** PositionEmbeddingSine arguments; `numPosFeats` is the total channel count (split over y/x). */
export interface SinePositionEncodingSpec {
  numPosFeats: number;
  temperature: number;
  normalize: boolean;
  /** null = 2*pi */
  scale: number | null;
}

export interface FpnNeckSpec {
  dModel: number;
  backboneChannelList: number[];
  fpnTopDownLevels: number[];
  fpnInterpModel: 'nearest' | 'bilinear' | 'bicubic';
  fuseType: 'sum' | 'avg';
  kernelSize: number;
  stride: number;
  padding: number;
  /** ImageEncoder.scalp: number of coarsest levels dropped. */
  scalp: number;
  positionEncoding: SinePositionEncodingSpec;
}

export interface RopeAttentionSpec {
  embeddingDim: number;
  numHeads: number;
  downsampleRate: number;
  /** null = embeddingDim */
  kvInDim: number | null;
  ropeTheta: number;
  ropeKRepeat: boolean;
  /** Cache hint only (the RoPE table is rebuilt for the actual grid). */
  featSizes: [number, number];
}

export interface MemoryAttentionSpec {
  dModel: number;
  numLayers: number;
  posEncAtInput: boolean;
  dimFeedforward: number;
  activation: 'relu' | 'gelu' | 'glu';
  posEncAtAttn: boolean;
  posEncAtCrossAttnKeys: boolean;
  posEncAtCrossAttnQueries: boolean;
  selfAttention: RopeAttentionSpec;
  crossAttention: RopeAttentionSpec;
}

export interface MemoryEncoderSpec {
  outDim: number;
  inDim: number;
  positionEncoding: SinePositionEncodingSpec;
  maskDownsampler: {
    embedDim: number;
    kernelSize: number;
    stride: number;
    padding: number;
    totalStride: number;
  };
  fuser: {
    numLayers: number;
    /** Fuser `dim`, only used with `inputProjection`. */
    dim: number | null;
    inputProjection: boolean;
    /** CXBlock arguments. */
    layerDim: number;
    kernelSize: number;
    padding: number;
    layerScaleInitValue: number;
    useDwconv: boolean;
  };
}

/**
 * Prompt encoder + mask decoder. The transformer/heads constants are hard-coded in
 * `SAM2Base._build_sam_heads` (they do not follow d_model); only the embedding dim does.
 */
export interface SamHeadsSpec {
  maskInChans: number;
  transformerDepth: number;
  transformerHeads: number;
  transformerMlpDim: number;
  attentionDownsampleRate: number;
  numMultimaskOutputs: number;
  iouHeadDepth: number;
  iouHeadHiddenDim: number;
  /** `sam_mask_decoder_extra_args` (MaskDecoder defaults: false / 0.05 / 0.98). */
  dynamicMultimaskViaStability: boolean;
  dynamicMultimaskStabilityDelta: number;
  dynamicMultimaskStabilityThresh: number;
}

/** SAM2Base flags (upstream names in camelCase). */
export interface Sam2Flags {
  sigmoidScaleForMemEnc: number;
  sigmoidBiasForMemEnc: number;
  binarizeMaskFromPtsForMemEnc: boolean;
  useMaskInputAsOutputWithoutSam: boolean;
  maxCondFramesInAttn: number;
  directlyAddNoMemEmbed: boolean;
  useHighResFeaturesInSam: boolean;
  multimaskOutputInSam: boolean;
  multimaskMinPtNum: number;
  multimaskMaxPtNum: number;
  multimaskOutputForTracking: boolean;
  useMultimaskTokenForObjPtr: boolean;
  iouPredictionUseSigmoid: boolean;
  memoryTemporalStrideForEval: number;
  nonOverlapMasksForMemEnc: boolean;
  useObjPtrsInEncoder: boolean;
  addTposEncToObjPtrs: boolean;
  projTposEncInObjPtrs: boolean;
  useSignedTposEncToObjPtrs: boolean;
  onlyObjPtrsInThePastForEval: boolean;
  predObjScores: boolean;
  predObjScoresMlp: boolean;
  fixedNoObjPtr: boolean;
  softNoObjPtr: boolean;
  useMlpForObjPtrProj: boolean;
  noObjEmbedSpatial: boolean;
}

/** SAM2VideoPredictor arguments. */
export interface PredictorSettings {
  fillHoleArea: number;
  nonOverlapMasks: boolean;
  clearNonCondMemAroundInput: boolean;
  addAllFramesToCorrectAsCond: boolean;
}

/** The hyperparameters; everything else in Sam2Config is derived from them. */
export interface Sam2ConfigSpec {
  /** Preset name (e.g. "sam2.1_hiera_t") or "custom". */
  arch: string;
  imageSize: number;
  backboneStride: number;
  numMaskmem: number;
  maxObjPtrsInEncoder: number;
  trunk: HieraSpec;
  neck: FpnNeckSpec;
  memoryAttention: MemoryAttentionSpec;
  memoryEncoder: MemoryEncoderSpec;
  samHeads: SamHeadsSpec;
  flags: Sam2Flags;
  predictor: PredictorSettings;
}

/** A complete SAM 2 configuration: the hyperparameters of the official yaml plus derived sizes. */
export interface Sam2Config extends Sam2ConfigSpec {
  /** "2.1" when any of the 2.1 additions is on (no_obj_embed_spatial, projected/signed obj-ptr tpos). */
  version: Sam2Version;
  /** Hiera stage layout derived from the trunk spec (blocks per stage, q-pool and global-attention blocks). */
  hiera: HieraDerived;
  /** Neck d_model (SAM2Base.hidden_dim) = prompt embed dim = decoder transformer dim. */
  hiddenDim: number;
  /** Memory channels: memory_encoder.out_dim if it has out_proj, else hiddenDim. */
  memDim: number;
  /** F = imageSize / backboneStride (SAM2Base.sam_image_embedding_size). */
  imageEmbeddingSize: number;
  /** Low-res mask side, 4F. */
  lowResMaskSize: number;
  /** Conv layers of MaskDownSampler before its final 1x1 projection. */
  maskDownsamplerNumLayers: number;
  /** memory_encoder.out_proj exists (outDim != inDim). */
  memoryEncoderHasOutProj: boolean;
}

/** A configuration or architecture name that is not valid. */
export class Sam2ConfigError extends Error {
  /** Error name. */
  override name = 'Sam2ConfigError';
}

// ---------------------------------------------------------------------------------------------
// Derivation

/** The Hiera block schedule exactly as `Hiera.__init__` builds it. */
export function deriveHiera(trunk: HieraSpec): HieraDerived {
  const { stages, windowSpec, qPool, qStride, dimMul, headMul, globalAttBlocks } = trunk;
  if (stages.length !== windowSpec.length) {
    throw new Sam2ConfigError(`Hiera: stages (${stages.length}) and window_spec (${windowSpec.length}) differ in length`);
  }
  const stageEnds = stages.map((_, i) => stages.slice(0, i + 1).reduce((a, b) => a + b, 0) - 1);
  if (qPool < 0 || qPool > stageEnds.length - 1) {
    throw new Sam2ConfigError(`Hiera: q_pool ${qPool} must be in [0, ${stageEnds.length - 1}]`);
  }
  const qPoolBlocks = stageEnds.slice(0, -1).map((e) => e + 1).slice(0, qPool);
  const depth = stages.reduce((a, b) => a + b, 0);
  const blocks: HieraBlock[] = [];
  let embedDim = trunk.embedDim;
  let numHeads = trunk.numHeads;
  let curStage = 1;
  for (let i = 0; i < depth; i++) {
    let dimOut = embedDim;
    // Window size lags by a block: it is read before the stage counter advances.
    let windowSize = windowSpec[curStage - 1];
    if (globalAttBlocks.includes(i)) windowSize = 0;
    if (stageEnds.includes(i - 1)) {
      dimOut = Math.trunc(embedDim * dimMul);
      numHeads = Math.trunc(numHeads * headMul);
      curStage++;
    }
    if (numHeads <= 0 || dimOut % numHeads !== 0) {
      throw new Sam2ConfigError(`Hiera block ${i}: dim ${dimOut} is not divisible by ${numHeads} heads`);
    }
    blocks.push({
      index: i,
      stage: stageEnds.findIndex((e) => i <= e),
      dim: embedDim,
      dimOut,
      numHeads,
      windowSize,
      qStride: qPoolBlocks.includes(i) ? [qStride[0], qStride[1]] : null,
      globalAttention: windowSize === 0,
      mlpHiddenDim: Math.trunc(dimOut * trunk.mlpRatio),
      hasProj: embedDim !== dimOut,
    });
    embedDim = dimOut;
  }
  const channelList = stageEnds.slice().reverse().map((e) => blocks[e].dimOut);
  return { blocks, stageEnds, qPoolBlocks, channelList };
}

function deriveVersion(flags: Sam2Flags): Sam2Version {
  return flags.noObjEmbedSpatial || flags.projTposEncInObjPtrs || flags.useSignedTposEncToObjPtrs ? '2.1' : '2.0';
}

/** Completes a spec with its derived fields, checking the constraints upstream asserts. */
export function buildConfig(spec: Sam2ConfigSpec): Sam2Config {
  const s = structuredClone(spec);
  const hiera = deriveHiera(s.trunk);
  const fail = (msg: string): never => {
    throw new Sam2ConfigError(`config "${s.arch}": ${msg}`);
  };
  if (JSON.stringify(hiera.channelList) !== JSON.stringify(s.neck.backboneChannelList)) {
    fail(`trunk channel_list ${JSON.stringify(hiera.channelList)} != neck backbone_channel_list ${JSON.stringify(s.neck.backboneChannelList)}`);
  }
  if (!(s.imageSize > 0) || s.imageSize % s.backboneStride !== 0) {
    fail(`image_size ${s.imageSize} must be a positive multiple of backbone_stride ${s.backboneStride}`);
  }
  // Hiera tiles the first-stage window PE over the stride-4 grid (Hiera._get_pos_embed).
  if ((s.imageSize / 4) % s.trunk.windowSpec[0] !== 0) {
    fail(`image_size ${s.imageSize}: the stride-4 grid (${s.imageSize / 4}) must be a multiple of the first window size ${s.trunk.windowSpec[0]}`);
  }
  if (!['nearest', 'bilinear', 'bicubic'].includes(s.neck.fpnInterpModel)) fail(`unsupported fpn_interp_model "${s.neck.fpnInterpModel}"`);
  if (!['sum', 'avg'].includes(s.neck.fuseType)) fail(`unsupported fuse_type "${s.neck.fuseType}"`);
  if (!['relu', 'gelu', 'glu'].includes(s.memoryAttention.activation)) fail(`unsupported memory attention activation "${s.memoryAttention.activation}"`);
  if (s.memoryAttention.selfAttention.embeddingDim !== s.memoryAttention.dModel ||
      s.memoryAttention.crossAttention.embeddingDim !== s.memoryAttention.dModel) {
    fail('memory attention embedding dims must equal its d_model');
  }
  const { stride, totalStride } = s.memoryEncoder.maskDownsampler;
  const maskDownsamplerNumLayers = Math.trunc(Math.log2(totalStride) / Math.log2(stride));
  if (stride ** maskDownsamplerNumLayers !== totalStride) {
    fail(`mask downsampler total_stride ${totalStride} is not a power of stride ${stride}`);
  }
  if (s.flags.projTposEncInObjPtrs && !s.flags.addTposEncToObjPtrs) {
    fail('proj_tpos_enc_in_obj_ptrs requires add_tpos_enc_to_obj_ptrs');
  }
  if (s.flags.fixedNoObjPtr && !(s.flags.predObjScores && s.flags.useObjPtrsInEncoder)) {
    fail('fixed_no_obj_ptr requires pred_obj_scores and use_obj_ptrs_in_encoder');
  }
  const hiddenDim = s.neck.dModel;
  const memoryEncoderHasOutProj = s.memoryEncoder.outDim !== s.memoryEncoder.inDim;
  const imageEmbeddingSize = Math.trunc(s.imageSize / s.backboneStride);
  return {
    ...s,
    version: deriveVersion(s.flags),
    hiera,
    hiddenDim,
    memDim: memoryEncoderHasOutProj ? s.memoryEncoder.outDim : hiddenDim,
    imageEmbeddingSize,
    lowResMaskSize: 4 * imageEmbeddingSize,
    maskDownsamplerNumLayers,
    memoryEncoderHasOutProj,
  };
}

/** The hyperparameter part of a config (what `configToJson` stores). */
export function configSpec(config: Sam2Config | Sam2ConfigSpec): Sam2ConfigSpec {
  const { arch, imageSize, backboneStride, numMaskmem, maxObjPtrsInEncoder, trunk, neck, memoryAttention,
    memoryEncoder, samHeads, flags, predictor } = config;
  return structuredClone({ arch, imageSize, backboneStride, numMaskmem, maxObjPtrsInEncoder, trunk, neck,
    memoryAttention, memoryEncoder, samHeads, flags, predictor });
}

// ---------------------------------------------------------------------------------------------
// Presets

export const SAM2_SIZES = ['t', 's', 'b+', 'l'] as const;
export type Sam2Size = (typeof SAM2_SIZES)[number];

const TRUNK_BY_SIZE: Record<Sam2Size, Pick<HieraSpec, 'embedDim' | 'numHeads' | 'stages' | 'globalAttBlocks' | 'windowSpec' | 'windowPosEmbedBkgSpatialSize'>> = {
  t: { embedDim: 96, numHeads: 1, stages: [1, 2, 7, 2], globalAttBlocks: [5, 7, 9], windowSpec: [8, 4, 14, 7], windowPosEmbedBkgSpatialSize: [7, 7] },
  s: { embedDim: 96, numHeads: 1, stages: [1, 2, 11, 2], globalAttBlocks: [7, 10, 13], windowSpec: [8, 4, 14, 7], windowPosEmbedBkgSpatialSize: [7, 7] },
  // b+ relies on the Hiera class defaults (stages, global blocks, 14x14 background PE).
  'b+': { embedDim: 112, numHeads: 2, stages: [2, 3, 16, 3], globalAttBlocks: [12, 16, 20], windowSpec: [8, 4, 14, 7], windowPosEmbedBkgSpatialSize: [14, 14] },
  l: { embedDim: 144, numHeads: 2, stages: [2, 6, 36, 4], globalAttBlocks: [23, 33, 43], windowSpec: [8, 4, 16, 8], windowPosEmbedBkgSpatialSize: [7, 7] },
};

function ropeSpec(embeddingDim: number, featSide: number, kvInDim: number | null, kRepeat: boolean): RopeAttentionSpec {
  return { embeddingDim, numHeads: 1, downsampleRate: 1, kvInDim, ropeTheta: 10000, ropeKRepeat: kRepeat, featSizes: [featSide, featSide] };
}

/**
 * An official yaml config as `build_sam2_video_predictor` builds it (apply_postprocessing=True:
 * dynamic multimask via stability 0.05/0.98, binarized prompted-frame masks, fill_hole_area 8).
 */
function officialSpec(version: Sam2Version, size: Sam2Size, imageSize: number): Sam2ConfigSpec {
  const trunk = TRUNK_BY_SIZE[size];
  const e = trunk.embedDim;
  const featSide = imageSize / 16;
  const is21 = version === '2.1';
  return {
    arch: `${is21 ? 'sam2.1' : 'sam2'}_hiera_${size}`,
    imageSize,
    backboneStride: 16,
    numMaskmem: 7,
    maxObjPtrsInEncoder: 16,
    trunk: { ...structuredClone(trunk), qPool: 3, qStride: [2, 2], dimMul: 2, headMul: 2, mlpRatio: 4 },
    neck: {
      dModel: 256,
      backboneChannelList: [8 * e, 4 * e, 2 * e, e],
      fpnTopDownLevels: [2, 3],
      fpnInterpModel: 'nearest',
      fuseType: 'sum',
      kernelSize: 1,
      stride: 1,
      padding: 0,
      scalp: 1,
      positionEncoding: { numPosFeats: 256, temperature: 10000, normalize: true, scale: null },
    },
    memoryAttention: {
      dModel: 256,
      numLayers: 4,
      posEncAtInput: true,
      dimFeedforward: 2048,
      activation: 'relu',
      posEncAtAttn: false,
      posEncAtCrossAttnKeys: true,
      posEncAtCrossAttnQueries: false,
      selfAttention: ropeSpec(256, featSide, null, false),
      crossAttention: ropeSpec(256, featSide, 64, true),
    },
    memoryEncoder: {
      outDim: 64,
      inDim: 256,
      positionEncoding: { numPosFeats: 64, temperature: 10000, normalize: true, scale: null },
      maskDownsampler: { embedDim: 256, kernelSize: 3, stride: 2, padding: 1, totalStride: 16 },
      fuser: { numLayers: 2, dim: null, inputProjection: false, layerDim: 256, kernelSize: 7, padding: 3, layerScaleInitValue: 1e-6, useDwconv: true },
    },
    samHeads: {
      maskInChans: 16,
      transformerDepth: 2,
      transformerHeads: 8,
      transformerMlpDim: 2048,
      attentionDownsampleRate: 2,
      numMultimaskOutputs: 3,
      iouHeadDepth: 3,
      iouHeadHiddenDim: 256,
      dynamicMultimaskViaStability: true,
      dynamicMultimaskStabilityDelta: 0.05,
      dynamicMultimaskStabilityThresh: 0.98,
    },
    flags: {
      sigmoidScaleForMemEnc: 20,
      sigmoidBiasForMemEnc: -10,
      binarizeMaskFromPtsForMemEnc: true,
      useMaskInputAsOutputWithoutSam: true,
      maxCondFramesInAttn: -1,
      directlyAddNoMemEmbed: true,
      useHighResFeaturesInSam: true,
      multimaskOutputInSam: true,
      multimaskMinPtNum: 0,
      multimaskMaxPtNum: 1,
      multimaskOutputForTracking: true,
      useMultimaskTokenForObjPtr: true,
      iouPredictionUseSigmoid: true,
      memoryTemporalStrideForEval: 1,
      nonOverlapMasksForMemEnc: false,
      useObjPtrsInEncoder: true,
      addTposEncToObjPtrs: is21,
      projTposEncInObjPtrs: is21,
      useSignedTposEncToObjPtrs: is21,
      onlyObjPtrsInThePastForEval: true,
      predObjScores: true,
      predObjScoresMlp: true,
      fixedNoObjPtr: true,
      softNoObjPtr: false,
      useMlpForObjPtrProj: true,
      noObjEmbedSpatial: is21,
    },
    predictor: { fillHoleArea: 8, nonOverlapMasks: false, clearNonCondMemAroundInput: false, addAllFramesToCorrectAsCond: false },
  };
}

/**
 * The golden fixtures' `micro` model: sam2.1_hiera_t shrunk (fixtures/micro_config.json), built
 * as the fixtures' video predictor (fill_hole_area 0).
 */
function microSpec(imageSize: number): Sam2ConfigSpec {
  const s = officialSpec('2.1', 't', imageSize);
  const featSide = imageSize / 16;
  s.arch = 'micro';
  Object.assign(s.trunk, { embedDim: 16, numHeads: 1, stages: [1, 2, 3, 2], globalAttBlocks: [5], windowPosEmbedBkgSpatialSize: [7, 7] });
  Object.assign(s.neck, { dModel: 64, backboneChannelList: [128, 64, 32, 16] });
  s.neck.positionEncoding.numPosFeats = 64;
  Object.assign(s.memoryAttention, {
    dModel: 64,
    numLayers: 2,
    dimFeedforward: 128,
    selfAttention: ropeSpec(64, featSide, null, false),
    crossAttention: ropeSpec(64, featSide, 16, true),
  });
  Object.assign(s.memoryEncoder, { outDim: 16, inDim: 64 });
  s.memoryEncoder.positionEncoding.numPosFeats = 16;
  s.memoryEncoder.maskDownsampler.embedDim = 64;
  s.memoryEncoder.fuser.layerDim = 64;
  s.predictor.fillHoleArea = 0;
  return s;
}

/** The built-in architectures (SAM 2 and 2.1 in four sizes, and the tests' `micro`). */
export const PRESET_NAMES = [
  'sam2_hiera_t', 'sam2_hiera_s', 'sam2_hiera_b+', 'sam2_hiera_l',
  'sam2.1_hiera_t', 'sam2.1_hiera_s', 'sam2.1_hiera_b+', 'sam2.1_hiera_l',
  'micro',
] as const;
/** One of `PRESET_NAMES`. */
export type PresetName = (typeof PRESET_NAMES)[number];

const SIZE_ALIASES: Record<string, Sam2Size> = {
  t: 't', tiny: 't', s: 's', small: 's', 'b+': 'b+', base_plus: 'b+', bplus: 'b+', l: 'l', large: 'l',
};

/**
 * Resolves a preset name. Accepts the config names (`sam2.1_hiera_t`), the checkpoint names
 * (`sam2.1_hiera_base_plus`, `sam2_hiera_large`, optionally with `.yaml`/`.pt`), MedSAM2's
 * `sam2.1_hiera_t512` (t at 512 px), and `micro`.
 */
export function resolvePresetName(name: string): { preset: PresetName; imageSize?: number } {
  const base = name.trim().replace(/\.(ya?ml|pt|safetensors)$/, '');
  if (base === 'micro') return { preset: 'micro' };
  const m = /^(sam2(?:\.1)?)_hiera_(tiny|small|base_plus|bplus|large|t|s|b\+|l)(512|1024)?$/.exec(base);
  if (!m) {
    throw new Sam2ConfigError(`unknown architecture "${name}"; known: ${PRESET_NAMES.join(', ')}`);
  }
  const preset = `${m[1]}_hiera_${SIZE_ALIASES[m[2]]}` as PresetName;
  return m[3] ? { preset, imageSize: Number(m[3]) } : { preset };
}

/** Options of `makeConfig`. */
export interface MakeConfigOptions {
  /** Input side S (default 1024; micro: 256). Must be a multiple of 16 (and of the window tiling). */
  imageSize?: number;
}

export function defaultImageSize(preset: PresetName): number {
  return preset === 'micro' ? 256 : 1024;
}

/**
 * The configuration of a built-in architecture, e.g. `makeConfig('sam2.1_hiera_t', { imageSize: 512 })`
 * (MedSAM2's size); checkpoint spellings such as `sam2.1_hiera_base_plus` are accepted.
 */
export function makeConfig(name: string, options: MakeConfigOptions = {}): Sam2Config {
  const { preset, imageSize: fromName } = resolvePresetName(name);
  const imageSize = options.imageSize ?? fromName ?? defaultImageSize(preset);
  if (!Number.isInteger(imageSize) || imageSize <= 0 || imageSize % 16 !== 0) {
    throw new Sam2ConfigError(`image size ${imageSize} must be a positive multiple of 16`);
  }
  if (preset === 'micro') return buildConfig(microSpec(imageSize));
  const m = /^(sam2(?:\.1)?)_hiera_(.+)$/.exec(preset)!;
  return buildConfig(officialSpec(m[1] === 'sam2.1' ? '2.1' : '2.0', m[2] as Sam2Size, imageSize));
}

// ---------------------------------------------------------------------------------------------
// From the official (resolved Hydra) model dict

type Dict = Record<string, unknown>;

/** Reads one dict level, applying defaults and rejecting keys the upstream class would not accept. */
class DictReader {
  private readonly used = new Set<string>();

  constructor(private readonly dict: Dict, readonly path: string) {}

  static of(value: unknown, path: string): DictReader {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Sam2ConfigError(`official config: ${path} must be a mapping, got ${JSON.stringify(value)}`);
    }
    return new DictReader(value as Dict, path);
  }

  private where(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.dict, key) && this.dict[key] !== undefined;
  }

  raw(key: string): unknown {
    this.used.add(key);
    return this.dict[key];
  }

  private value(key: string, fallback: unknown): unknown {
    this.used.add(key);
    if (!this.has(key)) {
      if (fallback === undefined) throw new Sam2ConfigError(`official config: missing required ${this.where(key)}`);
      return fallback;
    }
    return this.dict[key];
  }

  num(key: string, fallback?: number): number {
    const v = this.value(key, fallback);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Sam2ConfigError(`official config: ${this.where(key)} must be a number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  int(key: string, fallback?: number): number {
    const v = this.num(key, fallback);
    if (!Number.isInteger(v)) throw new Sam2ConfigError(`official config: ${this.where(key)} must be an integer, got ${v}`);
    return v;
  }

  bool(key: string, fallback?: boolean): boolean {
    const v = this.value(key, fallback);
    if (typeof v !== 'boolean') {
      throw new Sam2ConfigError(`official config: ${this.where(key)} must be a boolean, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.value(key, fallback);
    if (typeof v !== 'string') throw new Sam2ConfigError(`official config: ${this.where(key)} must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A list of integers; `null` in the dict gives `nullAs`. */
  ints(key: string, fallback?: number[] | null, nullAs?: number[]): number[] {
    const v = this.value(key, fallback);
    if (v === null && nullAs) return nullAs.slice();
    if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x))) {
      throw new Sam2ConfigError(`official config: ${this.where(key)} must be a list of integers, got ${JSON.stringify(v)}`);
    }
    return v.slice();
  }

  pair(key: string, fallback?: [number, number]): [number, number] {
    const v = this.ints(key, fallback);
    if (v.length !== 2) throw new Sam2ConfigError(`official config: ${this.where(key)} must have 2 entries, got ${JSON.stringify(v)}`);
    return [v[0], v[1]];
  }

  nullableNum(key: string, fallback: number | null): number | null {
    this.used.add(key);
    if (!this.has(key) || this.dict[key] === null) return this.has(key) ? null : fallback;
    return this.num(key);
  }

  sub(key: string): DictReader {
    this.used.add(key);
    if (!this.has(key)) throw new Sam2ConfigError(`official config: missing required ${this.where(key)}`);
    return DictReader.of(this.dict[key], this.where(key));
  }

  /** Checks `_target_` (when present) against the accepted class paths. */
  target(accepted: readonly string[]): string | undefined {
    this.used.add('_target_');
    if (!this.has('_target_')) return undefined;
    const t = this.dict._target_;
    if (typeof t !== 'string' || !accepted.includes(t)) {
      throw new Sam2ConfigError(`official config: ${this.where('_target_')} ${JSON.stringify(t)} is not supported (expected ${accepted.join(' or ')})`);
    }
    return t;
  }

  /** Marks keys that exist upstream but do not affect inference (dropout, caches, ...). */
  ignore(...keys: string[]): void {
    for (const k of keys) this.used.add(k);
  }

  /** Like Python's TypeError for an unexpected keyword argument. */
  finish(): void {
    const extra = Object.keys(this.dict).filter((k) => !this.used.has(k));
    if (extra.length > 0) {
      throw new Sam2ConfigError(`official config: unsupported key(s) ${extra.map((k) => this.where(k)).join(', ')}`);
    }
  }
}

const MODEL_TARGETS = [
  'sam2.modeling.sam2_base.SAM2Base',
  'sam2.sam2_video_predictor.SAM2VideoPredictor',
  'sam2.sam2_video_predictor.SAM2VideoPredictorVOS',
  'sam2.sam2_video_predictor_legacy.SAM2VideoPredictor',
] as const;

function readSinePe(r: DictReader): SinePositionEncodingSpec {
  r.target(['sam2.modeling.position_encoding.PositionEmbeddingSine']);
  const spec: SinePositionEncodingSpec = {
    numPosFeats: r.int('num_pos_feats'),
    temperature: r.num('temperature', 10000),
    normalize: r.bool('normalize', true),
    scale: r.nullableNum('scale', null),
  };
  if (spec.scale !== null && !spec.normalize) throw new Sam2ConfigError(`official config: ${r.path}: scale requires normalize`);
  r.ignore('warmup_cache', 'image_size', 'strides');
  r.finish();
  return spec;
}

function readRope(r: DictReader): RopeAttentionSpec {
  r.target(['sam2.modeling.sam.transformer.RoPEAttention']);
  const spec: RopeAttentionSpec = {
    embeddingDim: r.int('embedding_dim'),
    numHeads: r.int('num_heads'),
    downsampleRate: r.int('downsample_rate', 1),
    kvInDim: r.has('kv_in_dim') && r.raw('kv_in_dim') !== null ? r.int('kv_in_dim') : (r.ignore('kv_in_dim'), null),
    ropeTheta: r.num('rope_theta', 10000),
    ropeKRepeat: r.bool('rope_k_repeat', false),
    featSizes: r.pair('feat_sizes', [64, 64]),
  };
  r.ignore('dropout');
  r.finish();
  return spec;
}

/**
 * Builds a config from the resolved official `model:` dict (e.g. a fixture's `model.config`, or a
 * yaml's `model:` node after Hydra overrides). Keys the dict omits take the upstream constructor
 * defaults (which differ from the yaml values in places: SAM2Base image_size 512, Hiera stages
 * (2,3,16,3), ...). Unknown keys are rejected, as the Python constructors would.
 */
export function configFromOfficial(model: unknown, options: { arch?: string } = {}): Sam2Config {
  const m = DictReader.of(model, '');
  const target = m.target(MODEL_TARGETS);
  const isPredictor = target !== undefined && target !== 'sam2.modeling.sam2_base.SAM2Base';

  // Image encoder: ImageEncoder(trunk=Hiera, neck=FpnNeck, scalp=0)
  const enc = m.sub('image_encoder');
  enc.target(['sam2.modeling.backbones.image_encoder.ImageEncoder']);
  const scalp = enc.int('scalp', 0);
  const t = enc.sub('trunk');
  t.target(['sam2.modeling.backbones.hieradet.Hiera']);
  const trunk: HieraSpec = {
    embedDim: t.int('embed_dim', 96),
    numHeads: t.int('num_heads', 1),
    stages: t.ints('stages', [2, 3, 16, 3]),
    globalAttBlocks: t.ints('global_att_blocks', [12, 16, 20], []),
    windowSpec: t.ints('window_spec', [8, 4, 14, 7]),
    windowPosEmbedBkgSpatialSize: t.pair('window_pos_embed_bkg_spatial_size', [14, 14]),
    qPool: t.int('q_pool', 3),
    qStride: t.pair('q_stride', [2, 2]),
    dimMul: t.num('dim_mul', 2.0),
    headMul: t.num('head_mul', 2.0),
    mlpRatio: 4.0,
  };
  if (!t.bool('return_interm_layers', true)) {
    throw new Sam2ConfigError('official config: image_encoder.trunk.return_interm_layers=false is not supported');
  }
  t.ignore('drop_path_rate', 'weights_path');
  t.finish();

  const n = enc.sub('neck');
  n.target(['sam2.modeling.backbones.image_encoder.FpnNeck']);
  const fpnInterpModel = n.str('fpn_interp_model', 'bilinear');
  const fuseType = n.str('fuse_type', 'sum');
  if (!['nearest', 'bilinear', 'bicubic'].includes(fpnInterpModel)) {
    throw new Sam2ConfigError(`official config: image_encoder.neck.fpn_interp_model "${fpnInterpModel}" is not supported`);
  }
  if (fuseType !== 'sum' && fuseType !== 'avg') throw new Sam2ConfigError(`official config: image_encoder.neck.fuse_type "${fuseType}" is not supported`);
  const backboneChannelList = n.ints('backbone_channel_list');
  const neck: FpnNeckSpec = {
    dModel: n.int('d_model'),
    backboneChannelList,
    // None = top-down on every level
    fpnTopDownLevels: n.ints('fpn_top_down_levels', null, backboneChannelList.map((_, i) => i)),
    fpnInterpModel: fpnInterpModel as FpnNeckSpec['fpnInterpModel'],
    fuseType,
    kernelSize: n.int('kernel_size', 1),
    stride: n.int('stride', 1),
    padding: n.int('padding', 0),
    scalp,
    positionEncoding: readSinePe(n.sub('position_encoding')),
  };
  n.finish();
  enc.finish();

  // Memory attention: MemoryAttention(d_model, pos_enc_at_input, layer, num_layers, batch_first=True)
  const ma = m.sub('memory_attention');
  ma.target(['sam2.modeling.memory_attention.MemoryAttention']);
  if (!ma.bool('batch_first', true)) throw new Sam2ConfigError('official config: memory_attention.batch_first=false is not supported');
  const layer = ma.sub('layer');
  layer.target(['sam2.modeling.memory_attention.MemoryAttentionLayer']);
  const activation = layer.str('activation');
  if (!['relu', 'gelu', 'glu'].includes(activation)) {
    throw new Sam2ConfigError(`official config: memory_attention.layer.activation "${activation}" is not supported`);
  }
  const memoryAttention: MemoryAttentionSpec = {
    dModel: ma.int('d_model'),
    numLayers: ma.int('num_layers'),
    posEncAtInput: ma.bool('pos_enc_at_input'),
    dimFeedforward: layer.int('dim_feedforward'),
    activation: activation as MemoryAttentionSpec['activation'],
    posEncAtAttn: layer.bool('pos_enc_at_attn'),
    posEncAtCrossAttnKeys: layer.bool('pos_enc_at_cross_attn_keys'),
    posEncAtCrossAttnQueries: layer.bool('pos_enc_at_cross_attn_queries'),
    selfAttention: readRope(layer.sub('self_attention')),
    crossAttention: readRope(layer.sub('cross_attention')),
  };
  const layerDModel = layer.int('d_model');
  if (layerDModel !== memoryAttention.dModel) {
    throw new Sam2ConfigError(`official config: memory_attention.layer.d_model ${layerDModel} != memory_attention.d_model ${memoryAttention.dModel}`);
  }
  layer.ignore('dropout');
  layer.finish();
  ma.finish();

  // Memory encoder: MemoryEncoder(out_dim, mask_downsampler, fuser, position_encoding, in_dim=256)
  const me = m.sub('memory_encoder');
  me.target(['sam2.modeling.memory_encoder.MemoryEncoder']);
  const md = me.sub('mask_downsampler');
  md.target(['sam2.modeling.memory_encoder.MaskDownSampler']);
  const maskDownsampler = {
    embedDim: md.int('embed_dim', 256),
    kernelSize: md.int('kernel_size', 4),
    stride: md.int('stride', 4),
    padding: md.int('padding', 0),
    totalStride: md.int('total_stride', 16),
  };
  md.finish();
  const fu = me.sub('fuser');
  fu.target(['sam2.modeling.memory_encoder.Fuser']);
  const cx = fu.sub('layer');
  cx.target(['sam2.modeling.memory_encoder.CXBlock']);
  const fuser: MemoryEncoderSpec['fuser'] = {
    numLayers: fu.int('num_layers'),
    dim: fu.has('dim') && fu.raw('dim') !== null ? fu.int('dim') : (fu.ignore('dim'), null),
    inputProjection: fu.bool('input_projection', false),
    layerDim: cx.int('dim'),
    kernelSize: cx.int('kernel_size', 7),
    padding: cx.int('padding', 3),
    layerScaleInitValue: cx.num('layer_scale_init_value', 1e-6),
    useDwconv: cx.bool('use_dwconv', true),
  };
  if (fuser.inputProjection && fuser.dim === null) throw new Sam2ConfigError('official config: memory_encoder.fuser.input_projection needs dim');
  cx.ignore('drop_path');
  cx.finish();
  fu.finish();
  const memoryEncoder: MemoryEncoderSpec = {
    outDim: me.int('out_dim'),
    inDim: me.int('in_dim', 256),
    positionEncoding: readSinePe(me.sub('position_encoding')),
    maskDownsampler,
    fuser,
  };
  me.finish();

  // SAM2Base arguments (class defaults, not the yaml values)
  const extra = m.has('sam_mask_decoder_extra_args') && m.raw('sam_mask_decoder_extra_args') !== null
    ? m.sub('sam_mask_decoder_extra_args')
    : (m.ignore('sam_mask_decoder_extra_args'), DictReader.of({}, 'sam_mask_decoder_extra_args'));
  const samHeads: SamHeadsSpec = {
    maskInChans: 16,
    transformerDepth: 2,
    transformerHeads: 8,
    transformerMlpDim: 2048,
    attentionDownsampleRate: 2,
    numMultimaskOutputs: 3,
    iouHeadDepth: 3,
    iouHeadHiddenDim: 256,
    dynamicMultimaskViaStability: extra.bool('dynamic_multimask_via_stability', false),
    dynamicMultimaskStabilityDelta: extra.num('dynamic_multimask_stability_delta', 0.05),
    dynamicMultimaskStabilityThresh: extra.num('dynamic_multimask_stability_thresh', 0.98),
  };
  extra.finish();

  const flags: Sam2Flags = {
    sigmoidScaleForMemEnc: m.num('sigmoid_scale_for_mem_enc', 1.0),
    sigmoidBiasForMemEnc: m.num('sigmoid_bias_for_mem_enc', 0.0),
    binarizeMaskFromPtsForMemEnc: m.bool('binarize_mask_from_pts_for_mem_enc', false),
    useMaskInputAsOutputWithoutSam: m.bool('use_mask_input_as_output_without_sam', false),
    maxCondFramesInAttn: m.int('max_cond_frames_in_attn', -1),
    directlyAddNoMemEmbed: m.bool('directly_add_no_mem_embed', false),
    useHighResFeaturesInSam: m.bool('use_high_res_features_in_sam', false),
    multimaskOutputInSam: m.bool('multimask_output_in_sam', false),
    multimaskMinPtNum: m.int('multimask_min_pt_num', 1),
    multimaskMaxPtNum: m.int('multimask_max_pt_num', 1),
    multimaskOutputForTracking: m.bool('multimask_output_for_tracking', false),
    useMultimaskTokenForObjPtr: m.bool('use_multimask_token_for_obj_ptr', false),
    iouPredictionUseSigmoid: m.bool('iou_prediction_use_sigmoid', false),
    memoryTemporalStrideForEval: m.int('memory_temporal_stride_for_eval', 1),
    nonOverlapMasksForMemEnc: m.bool('non_overlap_masks_for_mem_enc', false),
    useObjPtrsInEncoder: m.bool('use_obj_ptrs_in_encoder', false),
    addTposEncToObjPtrs: m.bool('add_tpos_enc_to_obj_ptrs', true),
    projTposEncInObjPtrs: m.bool('proj_tpos_enc_in_obj_ptrs', false),
    useSignedTposEncToObjPtrs: m.bool('use_signed_tpos_enc_to_obj_ptrs', false),
    onlyObjPtrsInThePastForEval: m.bool('only_obj_ptrs_in_the_past_for_eval', false),
    predObjScores: m.bool('pred_obj_scores', false),
    predObjScoresMlp: m.bool('pred_obj_scores_mlp', false),
    fixedNoObjPtr: m.bool('fixed_no_obj_ptr', false),
    softNoObjPtr: m.bool('soft_no_obj_ptr', false),
    useMlpForObjPtrProj: m.bool('use_mlp_for_obj_ptr_proj', false),
    noObjEmbedSpatial: m.bool('no_obj_embed_spatial', false),
  };
  const predictorKeys = ['fill_hole_area', 'non_overlap_masks', 'clear_non_cond_mem_around_input', 'add_all_frames_to_correct_as_cond'];
  if (!isPredictor && target !== undefined) {
    const misplaced = predictorKeys.filter((k) => m.has(k));
    if (misplaced.length > 0) throw new Sam2ConfigError(`official config: ${misplaced.join(', ')} need a video predictor _target_, not SAM2Base`);
  }
  const predictor: PredictorSettings = {
    fillHoleArea: m.int('fill_hole_area', 0),
    nonOverlapMasks: m.bool('non_overlap_masks', false),
    clearNonCondMemAroundInput: m.bool('clear_non_cond_mem_around_input', false),
    addAllFramesToCorrectAsCond: m.bool('add_all_frames_to_correct_as_cond', false),
  };
  const spec: Sam2ConfigSpec = {
    arch: options.arch ?? 'custom',
    imageSize: m.int('image_size', 512),
    backboneStride: m.int('backbone_stride', 16),
    numMaskmem: m.int('num_maskmem', 7),
    maxObjPtrsInEncoder: m.int('max_obj_ptrs_in_encoder', 16),
    trunk,
    neck,
    memoryAttention,
    memoryEncoder,
    samHeads,
    flags,
    predictor,
  };
  m.ignore('compile_image_encoder', 'vos_optimized', 'clear_non_cond_mem_for_multi_obj');
  m.finish();
  return buildConfig(spec);
}

// ---------------------------------------------------------------------------------------------
// JSON / safetensors metadata

/** Metadata keys written into `__metadata__` of converted/synthesized weights. */
export const METADATA_KEYS = {
  config: 'sam2_config',
  arch: 'arch',
  imageSize: 'image_size',
  version: 'version',
} as const;

export function configToJson(config: Sam2Config): string {
  return JSON.stringify({ format: 'sam2-webgpu-config', format_version: 1, ...configSpec(config) });
}

/** Checks `value` against the structure of a known-good spec (types, list lengths of pairs). */
function checkStructure(value: unknown, template: unknown, path: string, nullable: ReadonlySet<string>): void {
  const fail = (what: string): never => {
    throw new Sam2ConfigError(`config JSON: ${path || '(root)'} ${what}`);
  };
  if (value === null && nullable.has(path)) return;
  if (template === null) {
    if (typeof value !== 'number') fail(`must be a number or null, got ${JSON.stringify(value)}`);
    return;
  }
  if (Array.isArray(template)) {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) fail('must be a list of numbers');
    return;
  }
  if (typeof template === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('must be an object');
    const v = value as Dict;
    for (const key of Object.keys(template as Dict)) {
      if (!(key in v)) fail(`is missing "${key}"`);
      checkStructure(v[key], (template as Dict)[key], path ? `${path}.${key}` : key, nullable);
    }
    for (const key of Object.keys(v)) {
      if (!(key in (template as Dict))) fail(`has unknown key "${key}"`);
    }
    return;
  }
  if (typeof value !== typeof template) fail(`must be a ${typeof template}, got ${JSON.stringify(value)}`);
}

const NULLABLE_PATHS = new Set([
  'neck.positionEncoding.scale',
  'memoryEncoder.positionEncoding.scale',
  'memoryAttention.selfAttention.kvInDim',
  'memoryAttention.crossAttention.kvInDim',
  'memoryEncoder.fuser.dim',
]);

export function configFromJson(json: string | unknown): Sam2Config {
  let parsed: unknown = json;
  if (typeof json === 'string') {
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      throw new Sam2ConfigError(`config JSON: not valid JSON (${(e as Error).message})`);
    }
  }
  if (parsed === null || typeof parsed !== 'object') throw new Sam2ConfigError('config JSON: not an object');
  const { format, format_version: version, ...rest } = parsed as Dict;
  if (format !== 'sam2-webgpu-config' || version !== 1) {
    throw new Sam2ConfigError(`config JSON: unsupported format ${JSON.stringify(format)} version ${JSON.stringify(version)}`);
  }
  checkStructure(rest, configSpec(makeConfig('sam2.1_hiera_t')), '', NULLABLE_PATHS);
  return buildConfig(rest as unknown as Sam2ConfigSpec);
}

export function configToMetadata(config: Sam2Config): Record<string, string> {
  return {
    [METADATA_KEYS.config]: configToJson(config),
    [METADATA_KEYS.arch]: config.arch,
    [METADATA_KEYS.imageSize]: String(config.imageSize),
    [METADATA_KEYS.version]: config.version,
  };
}

/** The config stored in safetensors metadata, or undefined when there is none. */
/**
 * The configuration stored in a weights file's metadata by `sam2-webgpu convert` / `synth`, or
 * undefined when the file has none.
 */
export function configFromMetadata(metadata: Record<string, string>): Sam2Config | undefined {
  const json = metadata[METADATA_KEYS.config];
  return json === undefined ? undefined : configFromJson(json);
}
