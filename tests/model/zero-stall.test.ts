// Zero-stall propagation: in the steady state a tracked slice costs the host no blocking await
// (decisions on the GPU, the slice's one packet read back asynchronously while the next slice
// runs), and the results are those of the synchronous chain: low-res logits and scores equal to a
// step-by-step decode → readback → encode reference, masks equal to the host resize + threshold.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { applyNonOverlap, bilinearResize, binarize } from '../../src/model/mask-postprocess.js';
import { MemoryBank, memoryBankShared } from '../../src/model/memory-bank.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { Sam2Video, type SliceResult } from '../../src/model/video-predictor.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { countPropagation } from '../../src/runtime/slice-counters.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { blobVolume } from '../helpers/blob-volume.js';
import { getTestGpu } from '../helpers/gpu.js';

const W = 72;
const H = 60;
const SLICES = 9;
/** Results left out of the steady state: the prompted slice and the first tracked ones (the bank filling). */
const WARMUP = 3;
const CLICKS: Array<[number, number]> = [
  [30, 30],
  [50, 22],
];

let gpu: Gpu;
let model: Sam2Model;

beforeAll(async () => {
  gpu = await getTestGpu();
  const config = makeConfig('micro');
  const file = syntheticWeightsFile(config);
  model = await Sam2Model.load(gpu, file, config);
});

/** Two drifting blobs on noise, W × H uint8 slices. */
function volume(): SliceSource {
  return blobVolume(model, { numFrames: SLICES, width: W, height: H, centres: CLICKS, radius: 9, drift: { amplitude: 2, period: 3 } });
}

/**
 * The synchronous chain of one object, step by step through the public parts: decode with its
 * readback, then the memory encoder from the host's object score.
 */
async function synchronousChain(click: [number, number]): Promise<Array<{ lowRes: Float32Array; score: number }>> {
  const cfg = model.config;
  const f = cfg.flags;
  const S = cfg.imageSize;
  const src = volume();
  const bank = new MemoryBank(gpu, cfg, memoryBankShared(gpu, cfg, model.root, model.maskmemPos), SLICES);
  const mm = (isInit: boolean, n: number) =>
    f.multimaskOutputInSam && (isInit || f.multimaskOutputForTracking) && f.multimaskMinPtNum <= n && n <= f.multimaskMaxPtNum;
  const out: Array<{ lowRes: Float32Array; score: number }> = [];
  for (let t = 0; t < SLICES; t++) {
    const image = src.loadImage(t);
    const feats = model.encodeImage(image);
    image.release();
    let pix;
    if (t === 0) {
      pix = model.addNoMemEmbed(feats.l2);
    } else {
      const mem = bank.assemble(t, false);
      pix = model.attendMemory(feats.l2, mem.memory, mem.memoryPos, mem.numObjPtrTokens);
      mem.memory.release();
      mem.memoryPos.release();
    }
    const points = Float32Array.of(Math.fround(Math.fround(click[0] / W) * S), Math.fround(Math.fround(click[1] / H) * S));
    const prompt = t === 0 ? { points, labels: Int32Array.of(1) } : {};
    const heads = await model.decode(pix, feats, prompt, mm(t === 0, t === 0 ? 1 : 0));
    pix.release();
    const memory = model.encodeMemory(feats.l2, heads.highResMasks, t === 0 && f.binarizeMaskFromPtsForMemEnc, heads.objectScoreLogit);
    bank.store(t, t === 0 ? 'cond' : 'non_cond', memory, heads.objPtr);
    out.push({ lowRes: await gpu.read(heads.lowResMasks), score: heads.objectScoreLogit });
    for (const x of [memory, heads.lowResMasks, heads.highResMasks, heads.objPtr, feats.l2, feats.s0, feats.s1]) x.release();
  }
  bank.release();
  return out;
}

describe('zero-stall propagation on the micro model', () => {
  for (const objects of [1, 2]) {
    it(`${objects} object(s): no blocking await per tracked slice, results equal to the synchronous chain`, async () => {
      const video = Sam2Video.create(gpu, model, model.root, volume(), { nonOverlapMasks: objects > 1 });
      for (let k = 0; k < objects; k++) await video.addPoints(0, k + 1, [CLICKS[k]], [1]);
      const { slices, steady } = await countPropagation(gpu, video.propagate({ direction: 'forward' }), 1 + WARMUP);
      expect(slices.map((s) => s.result.slice)).toEqual([...Array(SLICES).keys()]);
      expect(steady.slices).toBe(SLICES - 1 - WARMUP);
      expect(steady.perSlice.blockingAwaits).toBe(0);
      expect(slices.slice(1 + WARMUP).map((s) => s.counts.blockingAwaits)).toEqual(Array(SLICES - 1 - WARMUP).fill(0));
      // One packed readback per tracked slice for all objects (a result arrives once the next slice is recorded).
      expect(slices.reduce((n, s) => n + s.counts.asyncReads, 0)).toBe(SLICES - 1);

      const refs = await Promise.all(CLICKS.slice(0, objects).map((c) => synchronousChain(c)));
      for (const { result: r } of slices as Array<{ result: SliceResult }>) {
        const low = model.config.lowResMaskSize;
        const logits = r.lowRes.map((l) => bilinearResize(l, low, low, H, W));
        if (objects > 1) applyNonOverlap(logits);
        for (let k = 0; k < objects; k++) {
          expect(r.lowRes[k], `slice ${r.slice} object ${k + 1} low-res logits`).toEqual(refs[k][r.slice].lowRes);
          expect(r.objectScores[k]).toBe(refs[k][r.slice].score);
          expect(r.masks[k], `slice ${r.slice} object ${k + 1} mask`).toEqual(binarize(logits[k]));
        }
        if (r.slice > 0) expect(r.masks.some((m) => m.some((v) => v === 1)), `slice ${r.slice} has no foreground at all`).toBe(true);
      }
      video.dispose();
    });
  }

  it('with fill_hole_area: still no blocking await; masks are those of the filled logits', async () => {
    const video = Sam2Video.create(gpu, model, model.root, volume(), { fillHoleArea: 8 });
    await video.addPoints(0, 1, [CLICKS[0]], [1]);
    const { slices, steady } = await countPropagation(gpu, video.propagate({ direction: 'forward' }), 1 + WARMUP);
    expect(steady.perSlice.blockingAwaits).toBe(0);
    const low = model.config.lowResMaskSize;
    for (const { result: r } of slices as Array<{ result: SliceResult }>) {
      expect(r.masks[0], `slice ${r.slice} mask`).toEqual(binarize(bilinearResize(r.lowRes[0], low, low, H, W)));
    }
    video.dispose();
  });
});
