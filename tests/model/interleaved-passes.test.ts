// Direction 'both' with independent passes runs the two passes interleaved (one slice of each in
// turn) instead of one after the other: on the micro model with synthetic weights, every slice's
// output and the state left behind are exactly those of the sequential order, including where the
// forward pass is long enough for the bank to evict memories (their pointers must not reach the
// backward pass) and for an object whose prompt is not on the start slice; cancel keeps the
// finished slices of both passes; an interrupted interleaved run resumes exactly.
import { beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { Sam2Video, type SliceResult, type VideoOptions } from '../../src/model/video-predictor.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { blobVolume } from '../helpers/blob-volume.js';
import { getTestGpu } from '../helpers/gpu.js';

// Start 5, second object prompted on 7: the forward pass (5..23) outruns the bank's reach, so it
// evicts memories and keeps only their pointers; the backward pass (4..0) looks 15 slices back.
const N = 24;
const W = 64;
const H = 56;
let gpu: Gpu;
let model: Sam2Model;

beforeAll(async () => {
  gpu = await getTestGpu();
  const config = makeConfig('micro');
  const file = syntheticWeightsFile(config);
  model = await Sam2Model.load(gpu, file, config);
});

function source(): SliceSource {
  return blobVolume(model, { numFrames: N, width: W, height: H, centres: [[28, 26]], radius: 13, drift: { amplitude: 6, period: 4 }, seedOffset: 3, noise: 30 });
}

async function prompted(opts: VideoOptions = {}): Promise<Sam2Video> {
  const video = Sam2Video.create(gpu, model, model.root, source(), opts);
  await video.addPoints(5, 1, [[28, 26], [50, 45]], [1, 0]);
  await video.addBox(7, 2, [20, 18, 40, 36]);
  return video;
}

function expectSame(a: SliceResult, b: SliceResult, what: string): void {
  expect(b.slice, what).toBe(a.slice);
  expect(b.objIds, what).toEqual(a.objIds);
  for (let k = 0; k < a.objIds.length; k++) {
    expect(Array.from(b.lowRes[k]), `${what}: object ${a.objIds[k]} logits`).toEqual(Array.from(a.lowRes[k]));
    expect(b.objectScores[k], `${what}: object ${a.objIds[k]} score`).toBe(a.objectScores[k]);
  }
}

describe("direction 'both' interleaved (micro model)", () => {
  const sequential = new Map<number, SliceResult>();
  let sequentialAfter: SliceResult[] = [];
  const interleavedOrder = [5, 4, 6, 3, 7, 2, 8, 1, 9, 0, ...Array.from({ length: 14 }, (_, k) => 10 + k)];

  it('yields every slice exactly as the sequential order does, and leaves the same state', async () => {
    const a = await prompted({ interleavePasses: false });
    const seqOrder: number[] = [];
    for await (const r of a.propagate({ direction: 'both' })) {
      sequential.set(r.slice, r);
      seqOrder.push(r.slice);
    }
    expect(seqOrder).toEqual([...Array.from({ length: 19 }, (_, k) => 5 + k), 4, 3, 2, 1, 0]);
    sequentialAfter = Array.from({ length: N }, (_, t) => a.sliceResult(t, false));
    a.dispose();

    const b = await prompted();
    const order: number[] = [];
    for await (const r of b.propagate({ direction: 'both' })) {
      order.push(r.slice);
      expectSame(sequential.get(r.slice)!, r, `slice ${r.slice}`);
    }
    expect(order).toEqual(interleavedOrder);
    // The state left behind (what a later correction or propagation starts from) is the same too.
    for (let t = 0; t < N; t++) expectSame(sequentialAfter[t], b.sliceResult(t, false), `state of slice ${t}`);
    // A second propagation from that state matches as well.
    const again = await prompted({ interleavePasses: false });
    for await (const _ of again.propagate({ direction: 'both' })) void _;
    const seq2 = new Map<number, SliceResult>();
    for await (const r of again.propagate({ direction: 'both', maxSlices: 3 })) seq2.set(r.slice, r);
    again.dispose();
    const got2: number[] = [];
    for await (const r of b.propagate({ direction: 'both', maxSlices: 3 })) {
      got2.push(r.slice);
      expectSame(seq2.get(r.slice)!, r, `second run, slice ${r.slice}`);
    }
    expect(got2).toEqual([5, 4, 6, 3, 7, 2, 8]);
    b.dispose();
  });

  it('cancel keeps the finished slices of both passes', async () => {
    const v = await prompted();
    const got: SliceResult[] = [];
    for await (const r of v.propagate({ direction: 'both' })) {
      got.push(r);
      if (got.length === 5) v.cancel();
    }
    expect(got.map((r) => r.slice)).toEqual(interleavedOrder.slice(0, 5));
    expect(v.interrupted).toBe(false);
    for (const r of got) {
      expectSame(sequential.get(r.slice)!, r, `slice ${r.slice}`);
      expectSame(sequential.get(r.slice)!, v.sliceResult(r.slice, false), `kept slice ${r.slice}`);
    }
    v.dispose();
  });

  it('an interleaved run left early resumes on another video to exactly the same slices', async () => {
    const v = await prompted();
    const got: SliceResult[] = [];
    for await (const r of v.propagate({ direction: 'both' })) {
      got.push(r);
      if (got.length === 4) break;
    }
    expect(v.interrupted).toBe(true);
    const w = await v.resumeOn(gpu, model, model.root, source());
    v.dispose();
    for await (const r of w.resumePropagation()) got.push(r);
    expect(got.map((r) => r.slice)).toEqual(interleavedOrder);
    for (const r of got) expectSame(sequential.get(r.slice)!, r, `slice ${r.slice}`);
    for (let t = 0; t < N; t++) expectSame(sequentialAfter[t], w.sliceResult(t, false), `state of slice ${t}`);
    w.dispose();
  });
});
