// Batched image encoding: ImageEncoder.encodeBatch (B slices through patch embedding, the Hiera
// blocks' GEMMs and the neck in one call) gives each slice the features encode() gives it, with
// fewer dispatches per slice; the FeatureScheduler encodes the lookahead slices in such batches,
// each slice once.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeConfig, type Sam2Config } from '../../src/model/config.js';
import { FeatureScheduler, type SliceSource } from '../../src/model/feature-scheduler.js';
import { ImageEncoder, type ImageFeatures } from '../../src/model/image-encoder.js';
import type { Sam2Parts } from '../../src/model/sam2-parts.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { assertClose } from '../helpers/compare.js';
import { getTestGpu } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

let gpu: Gpu;
let model: Sam2Model;
let config: Sam2Config;

beforeAll(async () => {
  gpu = await getTestGpu();
  config = makeConfig('micro');
  const file = syntheticWeightsFile(config);
  model = await Sam2Model.load(gpu, file, config);
});

function images(n: number): GpuTensor[] {
  const s = config.imageSize;
  return Array.from({ length: n }, (_, i) => gpu.upload(randomArray(s * s * 3, 100 + i, -2, 2), [s, s, 3]));
}

async function readAll(f: ImageFeatures): Promise<Record<'s0' | 's1' | 'l2', Float32Array>> {
  return { s0: await gpu.read(f.s0), s1: await gpu.read(f.s1), l2: await gpu.read(f.l2) };
}

function release(f: ImageFeatures): void {
  f.s0.release();
  f.s1.release();
  f.l2.release();
}

/** encodeBatch(ims) against encode() of each image; returns dispatches per slice of both. */
async function compareBatch(encoder: ImageEncoder, ims: GpuTensor[], what: string): Promise<{ single: number; batched: number }> {
  const c0 = gpu.counters.dispatches;
  const single = ims.map((im) => encoder.encode(im));
  const c1 = gpu.counters.dispatches;
  const batched = encoder.encodeBatch(ims);
  const c2 = gpu.counters.dispatches;
  expect(batched.length).toBe(ims.length);
  for (let i = 0; i < ims.length; i++) {
    const [a, b] = [await readAll(single[i]), await readAll(batched[i])];
    for (const key of ['s0', 's1', 'l2'] as const) {
      expect(batched[i][key].shape).toEqual(single[i][key].shape);
      expect(batched[i][key].dtype).toBe('f32');
      // Per-row GEMMs and per-image attention: the same arithmetic, so the same bits on this adapter.
      assertClose(`${what} slice ${i} ${key}`, b[key], a[key], { relL2: 1e-6, atol: 1e-6 });
    }
    release(single[i]);
    release(batched[i]);
  }
  return { single: (c1 - c0) / ims.length, batched: (c2 - c1) / ims.length };
}

describe('ImageEncoder.encodeBatch on the micro model', () => {
  it('gives every slice the features of encode(), with fewer dispatches per slice', async () => {
    const encoder = new ImageEncoder(gpu, model.root, config);
    expect(encoder.maxBatch).toBeGreaterThanOrEqual(4);
    const ims = images(4);
    const d = await compareBatch(encoder, ims, 'B=4');
    console.log(`micro encoder dispatches per slice: B=1 ${d.single}, B=4 ${d.batched}`);
    expect(d.batched).toBeLessThan(0.75 * d.single);
    // Odd batch sizes and a batch of one.
    await compareBatch(encoder, ims.slice(0, 3), 'B=3');
    await compareBatch(encoder, ims.slice(0, 1), 'B=1');
    for (const im of ims) im.release();
    encoder.release();
  });

  it('gives the same features when the qkv of the batch is split per image and per window rows', async () => {
    // A budget below one image's stage-1 qkv: every image runs alone, over ranges of window rows.
    const grid = config.imageSize / 4;
    const chunkBytes = Math.ceil((grid * grid * 3 * config.trunk.embedDim * 4) / 3);
    const encoder = new ImageEncoder(gpu, model.root, config, { chunkBytes });
    const ims = images(3);
    await compareBatch(encoder, ims, 'chunked B=3');
    for (const im of ims) im.release();
    encoder.release();
  });

  it('refuses images of the wrong size', () => {
    const encoder = new ImageEncoder(gpu, model.root, config);
    const bad = gpu.empty([32, 32, 3]);
    expect(() => encoder.encodeBatch([bad, bad])).toThrow(/image must be \[256, 256, 3\]/);
    bad.release();
    encoder.release();
  });
});

describe('FeatureScheduler encoder batches', () => {
  /** Parts whose features are tiny tensors tagged with their slice; records each encoder call. */
  function fakeParts(calls: number[][]): Sam2Parts {
    const feats = (im: GpuTensor): ImageFeatures => ({ s0: gpu.clone(im), s1: gpu.empty([4]), l2: gpu.empty([4]) });
    return {
      config,
      encodeImage: (im: GpuTensor) => {
        calls.push([tagOf.get(im)!]);
        return feats(im);
      },
      encodeImages: (ims: readonly GpuTensor[]) => {
        calls.push(ims.map((im) => tagOf.get(im)!));
        return ims.map(feats);
      },
    } as unknown as Sam2Parts;
  }
  const tagOf = new Map<GpuTensor, number>();
  const source = (n: number): SliceSource => ({
    numFrames: n,
    width: 8,
    height: 8,
    loadImage: (t: number) => {
      const im = gpu.upload(new Float32Array([t, t, t, t]), [4]);
      tagOf.set(im, t);
      return im;
    },
  });

  for (const [batch, lookahead] of [[4, 4], [2, 4], [3, 2], [1, 4]] as const) {
    it(`encodes each slice once, in batches of ${batch} (lookahead ${lookahead})`, async () => {
      const calls: number[][] = [];
      const n = 13;
      const sched = new FeatureScheduler(gpu, fakeParts(calls), source(n), { encoderBatch: batch, lookahead });
      for (let t = 0; t < n; t++) {
        const upcoming = Array.from({ length: n - t - 1 }, (_, i) => t + 1 + i);
        const f = sched.get(t, upcoming);
        expect((await gpu.read(f.s0))[0]).toBe(t);
      }
      expect(calls.flat()).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(sched.encodes).toBe(n);
      // Every call but the ones the chain forced early (or the tail) is a full batch.
      const full = calls.filter((c) => c.length === Math.min(batch, lookahead + 1)).length;
      expect(full).toBeGreaterThanOrEqual(Math.floor(n / Math.min(batch, lookahead + 1)) - 1);
      expect(sched.encoderCalls).toBe(calls.length);
      sched.clear();
    });
  }

  it('defaults to 2 slices per call on a CPU adapter and rejects a bad batch size', () => {
    const calls: number[][] = [];
    const sched = new FeatureScheduler(gpu, fakeParts(calls), source(3));
    sched.get(0, [1, 2]);
    expect(calls).toEqual([[0, 1]]);
    sched.clear();
    expect(() => new FeatureScheduler(gpu, fakeParts(calls), source(3), { encoderBatch: 0 })).toThrow(/encoderBatch must be a positive integer/);
  });
});
