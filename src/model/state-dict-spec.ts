// The exact state_dict of a SAM 2 model (parameters and buffers, i.e. the keys of Meta's
// checkpoints under "model"), in PyTorch's order: a module's own parameters, then its buffers,
// then its children in registration order.
// Upstream: SAM2Base.__init__/_build_sam_heads, Hiera/MultiScaleBlock, FpnNeck, MemoryAttention(Layer),
// RoPEAttention/Attention, MemoryEncoder/MaskDownSampler/Fuser/CXBlock, PromptEncoder,
// MaskDecoder/TwoWayTransformer, MLP.

import type { Sam2Config } from './config.js';

export interface StateDictEntry {
  key: string;
  shape: number[];
  /** 'buffer' = registered buffer (only the prompt encoder's random-Fourier matrix). */
  kind: 'param' | 'buffer';
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

class SpecBuilder {
  readonly entries: StateDictEntry[] = [];

  param(key: string, shape: number[]): void {
    this.entries.push({ key, shape, kind: 'param' });
  }

  buffer(key: string, shape: number[]): void {
    this.entries.push({ key, shape, kind: 'buffer' });
  }

  linear(prefix: string, inDim: number, outDim: number): void {
    this.param(`${prefix}.weight`, [outDim, inDim]);
    this.param(`${prefix}.bias`, [outDim]);
  }

  conv(prefix: string, inDim: number, outDim: number, kernel: number, groups = 1): void {
    this.param(`${prefix}.weight`, [outDim, inDim / groups, kernel, kernel]);
    this.param(`${prefix}.bias`, [outDim]);
  }

  /** ConvTranspose2d stores its weight as [in, out, kh, kw]. */
  convTranspose(prefix: string, inDim: number, outDim: number, kernel: number): void {
    this.param(`${prefix}.weight`, [inDim, outDim, kernel, kernel]);
    this.param(`${prefix}.bias`, [outDim]);
  }

  norm(prefix: string, dim: number): void {
    this.param(`${prefix}.weight`, [dim]);
    this.param(`${prefix}.bias`, [dim]);
  }

  embedding(prefix: string, count: number, dim: number): void {
    this.param(`${prefix}.weight`, [count, dim]);
  }

  /** sam2_utils.MLP: num_layers Linears, hidden dims in between. */
  mlp(prefix: string, inDim: number, hidden: number, outDim: number, numLayers: number): void {
    const dims = [inDim, ...Array<number>(numLayers - 1).fill(hidden), outDim];
    for (let i = 0; i < numLayers; i++) this.linear(`${prefix}.layers.${i}`, dims[i], dims[i + 1]);
  }

  /** sam/transformer.py Attention (and RoPEAttention, which adds no parameters). */
  attention(prefix: string, embeddingDim: number, downsampleRate: number, kvInDim: number | null = null): void {
    const internal = Math.trunc(embeddingDim / downsampleRate);
    const kvIn = kvInDim ?? embeddingDim;
    this.linear(`${prefix}.q_proj`, embeddingDim, internal);
    this.linear(`${prefix}.k_proj`, kvIn, internal);
    this.linear(`${prefix}.v_proj`, kvIn, internal);
    this.linear(`${prefix}.out_proj`, internal, embeddingDim);
  }
}

export function stateDictSpec(config: Sam2Config): StateDictEntry[] {
  const b = new SpecBuilder();
  const { flags, hiddenDim: d, memDim } = config;

  // SAM2Base's own parameters come first.
  b.param('maskmem_tpos_enc', [config.numMaskmem, 1, 1, memDim]);
  b.param('no_mem_embed', [1, 1, d]);
  b.param('no_mem_pos_enc', [1, 1, d]);
  if (flags.predObjScores && flags.useObjPtrsInEncoder) b.param('no_obj_ptr', [1, d]);
  if (flags.noObjEmbedSpatial) b.param('no_obj_embed_spatial', [1, memDim]);

  // image_encoder.trunk (Hiera): pos embeds are own params, registered after patch_embed but saved first.
  const { trunk, hiera } = config;
  const e = trunk.embedDim;
  b.param('image_encoder.trunk.pos_embed', [1, e, ...trunk.windowPosEmbedBkgSpatialSize]);
  b.param('image_encoder.trunk.pos_embed_window', [1, e, trunk.windowSpec[0], trunk.windowSpec[0]]);
  b.conv('image_encoder.trunk.patch_embed.proj', 3, e, 7);
  for (const blk of hiera.blocks) {
    const p = `image_encoder.trunk.blocks.${blk.index}`;
    b.norm(`${p}.norm1`, blk.dim);
    b.linear(`${p}.attn.qkv`, blk.dim, 3 * blk.dimOut);
    b.linear(`${p}.attn.proj`, blk.dimOut, blk.dimOut);
    b.norm(`${p}.norm2`, blk.dimOut);
    b.linear(`${p}.mlp.layers.0`, blk.dimOut, blk.mlpHiddenDim);
    b.linear(`${p}.mlp.layers.1`, blk.mlpHiddenDim, blk.dimOut);
    if (blk.hasProj) b.linear(`${p}.proj`, blk.dim, blk.dimOut);
  }
  const { neck } = config;
  neck.backboneChannelList.forEach((c, i) => b.conv(`image_encoder.neck.convs.${i}.conv`, c, neck.dModel, neck.kernelSize));

  if (flags.useObjPtrsInEncoder) b.conv('mask_downsample', 1, 1, 4);

  // memory_attention
  const ma = config.memoryAttention;
  for (let i = 0; i < ma.numLayers; i++) {
    const p = `memory_attention.layers.${i}`;
    b.attention(`${p}.self_attn`, ma.selfAttention.embeddingDim, ma.selfAttention.downsampleRate, ma.selfAttention.kvInDim);
    b.attention(`${p}.cross_attn_image`, ma.crossAttention.embeddingDim, ma.crossAttention.downsampleRate, ma.crossAttention.kvInDim);
    b.linear(`${p}.linear1`, ma.dModel, ma.dimFeedforward);
    b.linear(`${p}.linear2`, ma.dimFeedforward, ma.dModel);
    b.norm(`${p}.norm1`, ma.dModel);
    b.norm(`${p}.norm2`, ma.dModel);
    b.norm(`${p}.norm3`, ma.dModel);
  }
  b.norm('memory_attention.norm', ma.dModel);

  // memory_encoder: MaskDownSampler = [conv, LayerNorm2d, act] x L, then a 1x1 conv.
  const me = config.memoryEncoder;
  const md = me.maskDownsampler;
  let inCh = 1;
  for (let i = 0; i < config.maskDownsamplerNumLayers; i++) {
    const outCh = inCh * md.stride ** 2;
    b.conv(`memory_encoder.mask_downsampler.encoder.${3 * i}`, inCh, outCh, md.kernelSize);
    b.norm(`memory_encoder.mask_downsampler.encoder.${3 * i + 1}`, outCh);
    inCh = outCh;
  }
  b.conv(`memory_encoder.mask_downsampler.encoder.${3 * config.maskDownsamplerNumLayers}`, inCh, md.embedDim, 1);
  b.conv('memory_encoder.pix_feat_proj', me.inDim, me.inDim, 1);
  const fu = me.fuser;
  if (fu.inputProjection) b.conv('memory_encoder.fuser.proj', fu.dim!, fu.dim!, 1);
  for (let i = 0; i < fu.numLayers; i++) {
    const p = `memory_encoder.fuser.layers.${i}`;
    if (fu.layerScaleInitValue > 0) b.param(`${p}.gamma`, [fu.layerDim]);
    b.conv(`${p}.dwconv`, fu.layerDim, fu.layerDim, fu.kernelSize, fu.useDwconv ? fu.layerDim : 1);
    b.norm(`${p}.norm`, fu.layerDim);
    b.linear(`${p}.pwconv1`, fu.layerDim, 4 * fu.layerDim);
    b.linear(`${p}.pwconv2`, 4 * fu.layerDim, fu.layerDim);
  }
  if (config.memoryEncoderHasOutProj) b.conv('memory_encoder.out_proj', me.inDim, me.outDim, 1);

  // sam_prompt_encoder
  const sh = config.samHeads;
  b.buffer('sam_prompt_encoder.pe_layer.positional_encoding_gaussian_matrix', [2, Math.trunc(d / 2)]);
  for (let i = 0; i < 4; i++) b.embedding(`sam_prompt_encoder.point_embeddings.${i}`, 1, d);
  b.embedding('sam_prompt_encoder.not_a_point_embed', 1, d);
  const mic = sh.maskInChans;
  const micQuarter = Math.trunc(mic / 4);
  b.conv('sam_prompt_encoder.mask_downscaling.0', 1, micQuarter, 2);
  b.norm('sam_prompt_encoder.mask_downscaling.1', micQuarter);
  b.conv('sam_prompt_encoder.mask_downscaling.3', micQuarter, mic, 2);
  b.norm('sam_prompt_encoder.mask_downscaling.4', mic);
  b.conv('sam_prompt_encoder.mask_downscaling.6', mic, d, 1);
  b.embedding('sam_prompt_encoder.no_mask_embed', 1, d);

  // sam_mask_decoder
  const t = 'sam_mask_decoder.transformer';
  for (let i = 0; i < sh.transformerDepth; i++) {
    const p = `${t}.layers.${i}`;
    b.attention(`${p}.self_attn`, d, 1);
    b.norm(`${p}.norm1`, d);
    b.attention(`${p}.cross_attn_token_to_image`, d, sh.attentionDownsampleRate);
    b.norm(`${p}.norm2`, d);
    b.mlp(`${p}.mlp`, d, sh.transformerMlpDim, d, 2);
    b.norm(`${p}.norm3`, d);
    b.norm(`${p}.norm4`, d);
    b.attention(`${p}.cross_attn_image_to_token`, d, sh.attentionDownsampleRate);
  }
  b.attention(`${t}.final_attn_token_to_image`, d, sh.attentionDownsampleRate);
  b.norm(`${t}.norm_final_attn`, d);
  const numMaskTokens = sh.numMultimaskOutputs + 1;
  b.embedding('sam_mask_decoder.iou_token', 1, d);
  b.embedding('sam_mask_decoder.mask_tokens', numMaskTokens, d);
  if (flags.predObjScores) b.embedding('sam_mask_decoder.obj_score_token', 1, d);
  const d4 = Math.trunc(d / 4);
  const d8 = Math.trunc(d / 8);
  b.convTranspose('sam_mask_decoder.output_upscaling.0', d, d4, 2);
  b.norm('sam_mask_decoder.output_upscaling.1', d4);
  b.convTranspose('sam_mask_decoder.output_upscaling.3', d4, d8, 2);
  if (flags.useHighResFeaturesInSam) {
    b.conv('sam_mask_decoder.conv_s0', d, d8, 1);
    b.conv('sam_mask_decoder.conv_s1', d, d4, 1);
  }
  for (let i = 0; i < numMaskTokens; i++) b.mlp(`sam_mask_decoder.output_hypernetworks_mlps.${i}`, d, d, d8, 3);
  b.mlp('sam_mask_decoder.iou_prediction_head', d, sh.iouHeadHiddenDim, numMaskTokens, sh.iouHeadDepth);
  if (flags.predObjScores) {
    if (flags.predObjScoresMlp) b.mlp('sam_mask_decoder.pred_obj_score_head', d, d, 1, 3);
    else b.linear('sam_mask_decoder.pred_obj_score_head', d, 1);
  }

  // object pointer projections
  if (flags.useObjPtrsInEncoder) {
    if (flags.useMlpForObjPtrProj) b.mlp('obj_ptr_proj', d, d, d, 3);
    else b.linear('obj_ptr_proj', d, d);
  }
  if (flags.projTposEncInObjPtrs) b.linear('obj_ptr_tpos_proj', d, memDim);

  return b.entries;
}

/** Number of trainable parameters (buffers excluded), as `sum(p.numel() for p in model.parameters())`. */
export function parameterCount(config: Sam2Config): number {
  return stateDictSpec(config).reduce((sum, e) => sum + (e.kind === 'param' ? numel(e.shape) : 0), 0);
}

/** Number of values in the state_dict (parameters + buffers). */
export function stateDictValueCount(config: Sam2Config): number {
  return stateDictSpec(config).reduce((sum, e) => sum + numel(e.shape), 0);
}

export interface StateDictProblem {
  kind: 'missing' | 'unexpected' | 'shape';
  key: string;
  expected?: number[];
  actual?: number[];
}

/** Compares a state_dict's keys and shapes with the spec (like `load_state_dict(strict=True)`). */
export function checkStateDict(spec: readonly StateDictEntry[], shapes: ReadonlyMap<string, readonly number[]>): StateDictProblem[] {
  const problems: StateDictProblem[] = [];
  const expected = new Map(spec.map((e) => [e.key, e.shape]));
  for (const { key, shape } of spec) {
    const actual = shapes.get(key);
    if (!actual) problems.push({ kind: 'missing', key, expected: shape });
    else if (actual.length !== shape.length || actual.some((v, i) => v !== shape[i])) {
      problems.push({ kind: 'shape', key, expected: shape, actual: [...actual] });
    }
  }
  for (const [key, shape] of shapes) {
    if (!expected.has(key)) problems.push({ kind: 'unexpected', key, actual: [...shape] });
  }
  return problems;
}

export function describeStateDictProblems(problems: readonly StateDictProblem[], limit = 10): string {
  const lines = problems.slice(0, limit).map((p) => {
    switch (p.kind) {
      case 'missing': return `missing key "${p.key}" (expected shape ${JSON.stringify(p.expected)})`;
      case 'unexpected': return `unexpected key "${p.key}" (shape ${JSON.stringify(p.actual)})`;
      case 'shape': return `key "${p.key}" has shape ${JSON.stringify(p.actual)}, expected ${JSON.stringify(p.expected)}`;
    }
  });
  if (problems.length > limit) lines.push(`... and ${problems.length - limit} more`);
  return lines.join('\n');
}
