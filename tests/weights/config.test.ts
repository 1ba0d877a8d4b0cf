import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PRESET_NAMES,
  Sam2ConfigError,
  configFromJson,
  configFromMetadata,
  configFromOfficial,
  configSpec,
  configToJson,
  configToMetadata,
  makeConfig,
  resolvePresetName,
  type Sam2Config,
} from '../../src/model/config.js';
import { stateDictValueCount } from '../../src/model/state-dict-spec.js';
import { fixturePath, listFixtureDirs } from '../helpers/fixtures-dir.js';

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Our config in the shape of a fixture's `model.derived` (what the instantiated modules report). */
function derivedView(c: Sam2Config): Record<string, unknown> {
  const ma = c.memoryAttention;
  const sh = c.samHeads;
  return {
    image_size: c.imageSize,
    backbone_stride: c.backboneStride,
    hidden_dim: c.hiddenDim,
    mem_dim: c.memDim,
    num_maskmem: c.numMaskmem,
    max_obj_ptrs_in_encoder: c.maxObjPtrsInEncoder,
    sam_image_embedding_size: c.imageEmbeddingSize,
    trunk: {
      channel_list: c.hiera.channelList,
      stage_ends: c.hiera.stageEnds,
      q_pool_blocks: c.hiera.qPoolBlocks,
      window_spec: c.trunk.windowSpec,
      global_att_blocks: c.trunk.globalAttBlocks,
      window_pos_embed_bkg_spatial_size: c.trunk.windowPosEmbedBkgSpatialSize,
      mlp_ratio: c.trunk.mlpRatio,
      norm: 'LayerNorm(eps=1e-6)',
      act: 'GELU(exact erf)',
      blocks: c.hiera.blocks.map((b) => ({
        block: b.index,
        dim: b.dim,
        dim_out: b.dimOut,
        num_heads: b.numHeads,
        window_size: b.windowSize,
        q_stride: b.qStride,
        global_attention: b.globalAttention,
      })),
    },
    neck: {
      d_model: c.neck.dModel,
      backbone_channel_list: c.neck.backboneChannelList,
      fpn_top_down_levels: c.neck.fpnTopDownLevels,
      fpn_interp_model: c.neck.fpnInterpModel,
      scalp: c.neck.scalp,
    },
    memory_attention: {
      num_layers: ma.numLayers,
      d_model: ma.dModel,
      dim_feedforward: ma.dimFeedforward,
      self_attn_heads: ma.selfAttention.numHeads,
      cross_attn_heads: ma.crossAttention.numHeads,
      kv_in_dim: ma.crossAttention.kvInDim ?? ma.crossAttention.embeddingDim,
      rope_theta: ma.crossAttention.ropeTheta,
      'pos_enc_at_input(0.1*pos)': ma.posEncAtInput,
      norm_eps: 1e-5,
    },
    memory_encoder: {
      out_dim: c.memoryEncoder.outDim,
      in_dim: c.memoryEncoder.inDim,
      // conv layers including the final 1x1 projection
      mask_downsampler_layers: c.maskDownsamplerNumLayers + 1,
      fuser_layers: c.memoryEncoder.fuser.numLayers,
      cxblock_kernel: c.memoryEncoder.fuser.kernelSize,
      layernorm2d_eps: 1e-6,
    },
    sam_heads: {
      prompt_embed_dim: c.hiddenDim,
      mask_in_chans: sh.maskInChans,
      two_way_depth: sh.transformerDepth,
      two_way_heads: sh.transformerHeads,
      two_way_mlp_dim: sh.transformerMlpDim,
      attention_downsample_rate: sh.attentionDownsampleRate,
      iou_head_hidden_dim: sh.iouHeadHiddenDim,
      iou_head_depth: sh.iouHeadDepth,
      num_multimask_outputs: sh.numMultimaskOutputs,
    },
    flags: Object.fromEntries(
      Object.entries(c.flags).filter(([k]) => k !== 'noObjEmbedSpatial').map(([k, v]) => [snake(k), v]),
    ),
    no_obj_embed_spatial: c.flags.noObjEmbedSpatial,
    dynamic_multimask: {
      via_stability: sh.dynamicMultimaskViaStability,
      delta: sh.dynamicMultimaskStabilityDelta,
      thresh: sh.dynamicMultimaskStabilityThresh,
    },
    param_count: stateDictValueCount(c),
  };
}

describe('configFromOfficial against every fixture', () => {
  const dirs = listFixtureDirs();

  it('finds fixtures', () => {
    expect(dirs.length).toBeGreaterThan(0);
  });

  for (const dir of dirs) {
    it(`matches ${dir.split('/').pop()}'s model.derived`, () => {
      const fixture = JSON.parse(readFileSync(join(dir, 'fixture.json'), 'utf8'));
      const config = configFromOfficial(fixture.model.config);
      const ours = derivedView(config);
      const theirs = fixture.model.derived as Record<string, unknown>;
      // Every reported quantity must be covered and equal (extra keys in a new fixture fail here).
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
      for (const key of Object.keys(theirs)) expect({ [key]: ours[key] }).toEqual({ [key]: theirs[key] });
      expect(config.imageSize).toBe(fixture.image_size);
    });
  }
});

describe('presets', () => {
  const official = JSON.parse(readFileSync(join(__dirname, 'data', 'official-configs.json'), 'utf8')).configs as Record<string, Record<string, unknown>>;

  for (const name of Object.keys(official)) {
    it(`${name} equals configFromOfficial(yaml + video-predictor overrides)`, () => {
      const dict = {
        ...official[name],
        _target_: 'sam2.sam2_video_predictor.SAM2VideoPredictor',
        sam_mask_decoder_extra_args: {
          dynamic_multimask_via_stability: true,
          dynamic_multimask_stability_delta: 0.05,
          dynamic_multimask_stability_thresh: 0.98,
        },
        binarize_mask_from_pts_for_mem_enc: true,
        fill_hole_area: 8,
      };
      expect(configFromOfficial(dict, { arch: name })).toEqual(makeConfig(name));
    });
  }

  it('micro equals the micro fixture config (and micro_config.json)', () => {
    const micro = JSON.parse(readFileSync(fixturePath('micro_config.json'), 'utf8'));
    const fromFull = configFromOfficial(micro.full_config, { arch: 'micro' });
    expect(fromFull).toEqual(makeConfig('micro'));
  });

  it('derives the spec §4.2 per-block windows and stage ends', () => {
    const win = (name: string) => makeConfig(name).hiera.blocks.map((b) => (b.windowSize === 0 ? 'G' : `${b.windowSize}${b.qStride ? 'q' : ''}`)).join(',');
    expect(win('sam2.1_hiera_t')).toBe('8,8q,4,4q,14,G,14,G,14,G,14q,7');
    expect(win('sam2.1_hiera_s')).toBe('8,8q,4,4q,14,14,14,G,14,14,G,14,14,G,14q,7');
    expect(win('sam2.1_hiera_b+')).toBe(['8,8', '8q,4,4', '4q,14,14,14,14,14,14,G,14,14,14,G,14,14,14,G', '14q,7,7'].join(','));
    const l = win('sam2.1_hiera_l').split(',');
    expect(l.slice(0, 2)).toEqual(['8', '8']);
    expect(l.slice(2, 8)).toEqual(['8q', '4', '4', '4', '4', '4']);
    expect(l[8]).toBe('4q');
    expect(l.slice(44)).toEqual(['16q', '8', '8', '8']);
    expect(makeConfig('sam2.1_hiera_l').hiera.stageEnds).toEqual([1, 7, 43, 47]);
    expect(makeConfig('sam2_hiera_b+').hiera.stageEnds).toEqual([1, 4, 20, 23]);
    expect(makeConfig('sam2_hiera_b+').hiera.qPoolBlocks).toEqual([2, 5, 21]);
    // head_dim constant across the trunk
    for (const [name, hd] of [['sam2.1_hiera_t', 96], ['sam2.1_hiera_b+', 56], ['sam2.1_hiera_l', 72]] as const) {
      for (const b of makeConfig(name).hiera.blocks) expect(b.dimOut / b.numHeads).toBe(hd);
    }
  });

  it('versions and 512 px', () => {
    expect(makeConfig('sam2_hiera_s').version).toBe('2.0');
    expect(makeConfig('sam2.1_hiera_s').version).toBe('2.1');
    const c = makeConfig('sam2.1_hiera_t', { imageSize: 512 });
    expect(c.imageEmbeddingSize).toBe(32);
    expect(c.lowResMaskSize).toBe(128);
    expect(c.memoryAttention.crossAttention.featSizes).toEqual([32, 32]);
    expect(makeConfig('sam2.1_hiera_t512').imageSize).toBe(512);
    expect(resolvePresetName('sam2.1_hiera_base_plus.pt')).toEqual({ preset: 'sam2.1_hiera_b+' });
    expect(resolvePresetName('sam2_hiera_large')).toEqual({ preset: 'sam2_hiera_l' });
    expect(() => makeConfig('sam3_hiera_t')).toThrow(/unknown architecture "sam3_hiera_t"/);
    expect(() => makeConfig('sam2.1_hiera_t', { imageSize: 500 })).toThrow(/multiple of 16/);
    expect(() => makeConfig('sam2.1_hiera_t', { imageSize: 1008 })).toThrow(/stride-4 grid \(252\) must be a multiple of the first window size 8/);
    expect(PRESET_NAMES).toContain('micro');
  });
});

describe('configFromOfficial semantics', () => {
  const base = () => JSON.parse(readFileSync(fixturePath('micro_config.json'), 'utf8')).full_config;

  it('applies class defaults for omitted keys', () => {
    const d = base();
    delete d.image_size; // SAM2Base default 512
    delete d.sigmoid_scale_for_mem_enc; // 1.0
    delete d.image_encoder.trunk.window_pos_embed_bkg_spatial_size; // Hiera default 14x14
    delete d.memory_encoder.in_dim; // 256 -> no longer matches d_model, but shapes still derive
    delete d.image_encoder.neck.fpn_top_down_levels; // None -> all levels
    const c = configFromOfficial(d);
    expect(c.imageSize).toBe(512);
    expect(c.flags.sigmoidScaleForMemEnc).toBe(1);
    expect(c.trunk.windowPosEmbedBkgSpatialSize).toEqual([14, 14]);
    expect(c.memoryEncoder.inDim).toBe(256);
    expect(c.neck.fpnTopDownLevels).toEqual([0, 1, 2, 3]);
  });

  it('mem_dim follows hidden_dim when the memory encoder has no out_proj', () => {
    const d = base();
    d.memory_encoder.out_dim = 64; // == in_dim -> Identity out_proj
    const c = configFromOfficial(d);
    expect(c.memoryEncoderHasOutProj).toBe(false);
    expect(c.memDim).toBe(64);
  });

  it('rejects unknown keys, wrong types, bad targets and inconsistent settings', () => {
    const withExtra = base();
    withExtra.image_encoder.trunk.bogus = 1;
    expect(() => configFromOfficial(withExtra)).toThrow(/unsupported key\(s\) image_encoder\.trunk\.bogus/);
    const wrongType = base();
    wrongType.num_maskmem = '7';
    expect(() => configFromOfficial(wrongType)).toThrow(/num_maskmem must be a number/);
    const target = base();
    target.image_encoder.trunk._target_ = 'some.other.Backbone';
    expect(() => configFromOfficial(target)).toThrow(/_target_ "some.other.Backbone" is not supported/);
    const channels = base();
    channels.image_encoder.neck.backbone_channel_list = [128, 64, 32, 8];
    expect(() => configFromOfficial(channels)).toThrow(/channel_list/);
    const missing = base();
    delete missing.memory_attention.layer.dim_feedforward;
    expect(() => configFromOfficial(missing)).toThrow(/missing required memory_attention\.layer\.dim_feedforward/);
    const tpos = base();
    tpos.add_tpos_enc_to_obj_ptrs = false;
    expect(() => configFromOfficial(tpos)).toThrow(/proj_tpos_enc_in_obj_ptrs requires add_tpos_enc_to_obj_ptrs/);
    expect(() => configFromOfficial([])).toThrow(Sam2ConfigError);
  });
});

describe('config JSON / metadata', () => {
  it('round-trips every preset', () => {
    for (const name of PRESET_NAMES) {
      const c = makeConfig(name, { imageSize: name === 'micro' ? 256 : 512 });
      expect(configFromJson(configToJson(c))).toEqual(c);
      const meta = configToMetadata(c);
      expect(meta.arch).toBe(name);
      expect(meta.image_size).toBe(String(c.imageSize));
      expect(meta.version).toBe(c.version);
      expect(configFromMetadata(meta)).toEqual(c);
    }
    expect(configFromMetadata({})).toBeUndefined();
  });

  it('rejects malformed JSON with the offending path', () => {
    const good = JSON.parse(configToJson(makeConfig('micro')));
    expect(() => configFromJson('{')).toThrow(/not valid JSON/);
    expect(() => configFromJson({ ...good, format: 'x' })).toThrow(/unsupported format/);
    const bad = structuredClone(good);
    bad.trunk.embedDim = 'sixteen';
    expect(() => configFromJson(bad)).toThrow(/trunk\.embedDim must be a number/);
    const missing = structuredClone(good);
    delete missing.memoryEncoder.fuser;
    expect(() => configFromJson(missing)).toThrow(/memoryEncoder is missing "fuser"/);
    const activation = structuredClone(good);
    activation.memoryAttention.activation = 'swish';
    expect(() => configFromJson(activation)).toThrow(/unsupported memory attention activation "swish"/);
    const extra = structuredClone(good);
    extra.flags.newFlag = true;
    expect(() => configFromJson(extra)).toThrow(/flags has unknown key "newFlag"/);
    expect(configSpec(configFromJson(good))).toEqual(configSpec(makeConfig('micro')));
  });
});
