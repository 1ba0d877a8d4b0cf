// Parity of the memory path on the image fixtures, teacher-forced from fixture tensors: the memory
// encoder from `neck.fpn.2` and the recorded masks (binarized, sigmoid, and object-absent paths),
// and memory attention from each constructed bank's recorded `memory` / `memory_pos`.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { configFromOfficial, type Sam2Config } from '../../src/model/config.js';
import { bilinearResize } from '../../src/model/mask-postprocess.js';
import { MemoryAttention } from '../../src/model/memory-attention.js';
import { MemoryEncoder } from '../../src/model/memory-encoder.js';
import type { Probe } from '../../src/model/probe.js';
import { sinePositionEncodingF32 } from '../../src/kernels/position/position-f32.js';
import type { SinePositionEncodingSpec } from '../../src/model/config.js';

const sinePE = (h: number, w: number, p: SinePositionEncodingSpec) => sinePositionEncodingF32(h, w, p.numPosFeats, p.temperature, p.scale ?? 2 * Math.PI);
import { WeightStore } from '../../src/model/weights.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { getTestGpu } from '../helpers/gpu.js';
import { chwToHwc, compareToFixture, discoverFixtures, Fixture, hwcToChw, TOL, unpackMaskBits } from './fixture.js';
import { fixtureWeights } from './fixture-weights.js';

const memoryKeys = (k: string) => /^(memory_encoder|memory_attention)\./.test(k) || ['no_obj_embed_spatial', 'maskmem_tpos_enc'].includes(k);

/** Runs `fn` with a probe that clones named tensors; returns their host copies. */
async function withProbe(gpu: Gpu, fn: (probe: Probe) => GpuTensor): Promise<{ out: Float32Array; probed: Map<string, { data: Float32Array; shape: readonly number[] }> }> {
  const clones: Array<[string, GpuTensor]> = [];
  const out = fn((name, t) => clones.push([name, gpu.clone(t)]));
  const probed = new Map<string, { data: Float32Array; shape: readonly number[] }>();
  for (const [name, t] of clones) {
    probed.set(name, { data: await gpu.read(t), shape: t.shape });
    t.release();
  }
  const data = await gpu.read(out);
  out.release();
  return { out: data, probed };
}

for (const ref of discoverFixtures('image')) {
  describe(`memory path parity: ${ref.name}`, () => {
    let gpu: Gpu;
    let fx: Fixture;
    let config: Sam2Config;
    let weights: WeightStore;
    let F: number;
    let C: number;
    let pixFeat: GpuTensor;

    beforeAll(async () => {
      gpu = await getTestGpu();
      fx = new Fixture(ref);
      config = configFromOfficial(ref.json.model.config);
      weights = new WeightStore(gpu, fixtureWeights(ref, config, memoryKeys));
      F = config.imageEmbeddingSize;
      C = config.hiddenDim;
      pixFeat = gpu.upload(chwToHwc(fx.f32('neck.fpn.2'), C, F, F), [F, F, C], 'f32', 'neck.fpn.2');
    });
    afterAll(() => {
      pixFeat?.release();
      weights?.release();
    });

    // --- memory encoder -------------------------------------------------------------------
    const S = ref.json.image_size;
    const variants = [
      { tag: 'bin', binarize: true, score: 1 },
      { tag: 'sig', binarize: false, score: 1 },
      { tag: 'sig_noobj', binarize: false, score: -1 },
    ].filter((v) => `memenc.${v.tag}.maskmem_features` in ref.json.tensors);
    for (const v of variants) {
      it(`memory encoder (${v.tag}) → memenc.${v.tag}.*`, async () => {
        const enc = new MemoryEncoder(gpu, weights.scope(''), config);
        // The binarized path is fed the recorded bits (pixels within float error of 0 would
        // otherwise flip); the sigmoid paths the recorded high-res logits of case 1.
        let logits: Float32Array;
        if (v.binarize) {
          const bits = unpackMaskBits(fx.i32('memenc.bin.mask_bits'), S * S);
          logits = Float32Array.from(bits, (b) => (b ? 1 : -1));
        } else if (fx.has('sam.case1.mm.high_res_masks')) {
          logits = fx.f32('sam.case1.mm.high_res_masks');
        } else {
          const low = fx.f32('sam.case1.mm.low_res_masks');
          const side = Math.round(Math.sqrt(low.length));
          logits = bilinearResize(low, side, side, S, S);
        }
        const hr = gpu.upload(logits, [S, S]);
        const { out, probed } = await withProbe(gpu, (probe) =>
          enc.forward({ pixFeat, highResMasks: hr, binarize: v.binarize, objectScoreLogit: v.score }, (n, t, l) => probe(`memenc.${v.tag}.${n}`, t, l)),
        );
        hr.release();
        for (const [name, { data, shape }] of probed) {
          const c = shape[shape.length - 1];
          const hw = data.length / c;
          const side = Math.round(Math.sqrt(hw));
          const tol = name.endsWith('mask_for_mem') ? { atol: 1e-5 } : TOL.memoryEncoder;
          compareToFixture(fx, name, hwcToChw(data, side, side, c), tol);
        }
        compareToFixture(fx, `memenc.${v.tag}.maskmem_features`, hwcToChw(out, F, F, config.memDim), TOL.memoryEncoder);
      });
    }

    it('memory sine position encoding → memenc.maskmem_pos_enc', () => {
      const pe = sinePE(F, F, config.memoryEncoder.positionEncoding);
      compareToFixture(fx, 'memenc.maskmem_pos_enc', hwcToChw(pe, F, F, config.memDim), TOL.positional);
    });

    // --- memory attention -------------------------------------------------------------------
    for (const bank of Object.keys(ref.json.memattn_banks ?? {})) {
      it(`memory attention (bank ${bank}) → memattn.${bank}.pix_feat_with_mem`, async () => {
        const att = new MemoryAttention(gpu, weights.scope(''), config);
        const p = `memattn.${bank}`;
        const curr = fx.has(`${p}.curr`) ? fx.f32(`${p}.curr`) : chwToHwc(fx.f32('neck.fpn.2'), C, F, F);
        const currPos = fx.has(`${p}.curr_pos`) ? fx.f32(`${p}.curr_pos`) : sinePE(F, F, config.neck.positionEncoding);
        const mem = fx.f32(`${p}.memory`);
        const M = mem.length / config.memDim;
        const nPtr = fx.i32(`${p}.num_obj_ptr_tokens`)[0];
        const t = {
          curr: gpu.upload(curr, [F * F, C]),
          pos: gpu.upload(currPos, [F * F, C]),
          memory: gpu.upload(mem, [M, config.memDim]),
          memoryPos: gpu.upload(fx.f32(`${p}.memory_pos`), [M, config.memDim]),
        };
        const { out, probed } = await withProbe(gpu, (probe) => att.forward(t.curr, t.pos, t.memory, t.memoryPos, nPtr, probe));
        Object.values(t).forEach((x) => x.release());
        for (const [name, { data }] of probed) compareToFixture(fx, `${p}.${name}`, data, TOL.memoryAttention);
        compareToFixture(fx, `${p}.pix_feat_with_mem`, hwcToChw(out, F, F, C), TOL.memoryAttention);
      });
    }
  });
}
