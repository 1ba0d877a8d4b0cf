// fill_hole_area in the video predictor (upstream `_run_single_frame_inference` →
// `fill_holes_in_mask_scores`), on the micro model with synthetic weights: a prompted slice's
// returned logits are exactly the CPU reference's filling of the unfilled ones, every slice comes
// back without small holes, the filled logits change what is tracked (prompted memories are encoded
// from them), and an interrupted run resumes to exactly the uninterrupted masks (tracked memories
// were encoded from the unfilled logits, which the host keeps for that).
import { beforeAll, describe, expect, it } from 'vitest';
import { fillHolesRef } from '../../src/kernels/fill-holes/fill-holes.ref.js';
import { makeConfig } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { Sam2Video, type SliceResult } from '../../src/model/video-predictor.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { blobVolume } from '../helpers/blob-volume.js';
import { getTestGpu } from '../helpers/gpu.js';

const N = 7;
const W = 72;
const H = 64;
let gpu: Gpu;
let model: Sam2Model;
let side: number;

beforeAll(async () => {
  gpu = await getTestGpu();
  const config = makeConfig('micro');
  const file = syntheticWeightsFile(config);
  model = await Sam2Model.load(gpu, file, config);
  side = config.lowResMaskSize;
});

function source(): SliceSource {
  return blobVolume(model, {
    numFrames: N, width: W, height: H, centres: [[30, 30]], radius: 16, drift: { amplitude: 4, period: 2 }, seedOffset: 7, noise: 60, levels: [190, 70],
  });
}

async function prompted(fillHoleArea: number): Promise<{ video: Sam2Video; first: SliceResult }> {
  const video = Sam2Video.create(gpu, model, model.root, source(), { fillHoleArea });
  const first = await video.addPoints(3, 1, [[30, 30], [52, 44]], [1, 0]);
  return { video, first };
}

function changed(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

describe('fill_hole_area in Sam2Video (micro model)', () => {
  let area = 0;
  let unfilled: SliceResult[] = [];

  it('a prompted slice returns exactly the reference filling of its unfilled logits', async () => {
    const { video, first } = await prompted(0);
    const lr = first.lowRes[0];
    // The synthetic model's masks are noisy: pick the smallest area that fills something (not all).
    for (const a of [8, 32, 128, 512, side * side - 1]) {
      const d = changed(lr, fillHolesRef(lr, side, side, a));
      if (d > 0 && d < lr.length) {
        area = a;
        break;
      }
    }
    expect(area, 'the unfilled prompted mask has no hole any area would fill').toBeGreaterThan(0);
    for await (const r of video.propagate({ direction: 'both' })) unfilled.push(r);
    video.dispose();

    const filled = await prompted(area);
    expect(Array.from(filled.first.lowRes[0])).toEqual(Array.from(fillHolesRef(lr, side, side, area)));
    filled.video.dispose();
  });

  it('every slice comes back without small holes, and the filling changes what is tracked', async () => {
    const { video } = await prompted(area);
    const got: SliceResult[] = [];
    for await (const r of video.propagate({ direction: 'both' })) got.push(r);
    video.dispose();
    expect(got.map((r) => r.slice)).toEqual(unfilled.map((r) => r.slice));
    let differs = 0;
    for (const [k, r] of got.entries()) {
      const lr = r.lowRes[0];
      expect(changed(lr, fillHolesRef(lr, side, side, area)), `slice ${r.slice} still has holes of <= ${area} pixels`).toBe(0);
      if (k > 0) differs += changed(lr, unfilled[k].lowRes[0]);
    }
    expect(differs, 'tracked slices are the same with and without fill_hole_area').toBeGreaterThan(0);
  });

  it('an interrupted run resumes to exactly the uninterrupted logits', async () => {
    const { video: a } = await prompted(area);
    const reference: SliceResult[] = [];
    for await (const r of a.propagate({ direction: 'both' })) reference.push(r);
    a.dispose();

    const { video: b } = await prompted(area);
    const got: SliceResult[] = [];
    for await (const r of b.propagate({ direction: 'both' })) {
      got.push(r);
      if (got.length === 3) break;
    }
    expect(b.interrupted).toBe(true);
    const c = await b.resumeOn(gpu, model, model.root, source());
    b.dispose();
    for await (const r of c.resumePropagation()) got.push(r);
    c.dispose();
    expect(got.map((r) => r.slice)).toEqual(reference.map((r) => r.slice));
    for (const [k, r] of got.entries()) expect(Array.from(r.lowRes[0]), `slice ${r.slice}`).toEqual(Array.from(reference[k].lowRes[0]));
  });

  it('refuses a negative or fractional area', () => {
    expect(() => Sam2Video.create(gpu, model, model.root, source(), { fillHoleArea: -1 })).toThrow(/fillHoleArea/);
    expect(() => Sam2Video.create(gpu, model, model.root, source(), { fillHoleArea: 2.5 })).toThrow(/fillHoleArea/);
  });
});
