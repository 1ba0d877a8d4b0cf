// Propagation behaviour of Sam2Video on the micro model with synthetic weights (the numerics are
// covered by the fixture parity tests): GPU memory stays flat over a long volume once the memory
// bank is full, cancel keeps the finished slices, and prompts / directions follow the official
// predictor.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeConfig } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { Sam2Video, type SliceResult } from '../../src/model/video-predictor.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { blobVolume } from '../helpers/blob-volume.js';
import { getTestGpu } from '../helpers/gpu.js';

const LONG = Number(process.env.SAM2_LONG_SLICES ?? 200);

let gpu: Gpu;
let model: Sam2Model;

beforeAll(async () => {
  gpu = await getTestGpu();
  const config = makeConfig('micro');
  const file = syntheticWeightsFile(config);
  model = await Sam2Model.load(gpu, file, config);
});

/** A smooth blob drifting from slice to slice, as uint8 slices of 96×80. */
function volume(numFrames: number): SliceSource & { loads: number } {
  return blobVolume(model, { numFrames, width: 96, height: 80, centres: [[40, 40]], radius: 18, drift: { amplitude: 10, period: 9 } });
}

describe('Sam2Video on the micro model', () => {
  it(`propagates ${LONG} slices with flat GPU memory once the bank is full`, async () => {
    const video = Sam2Video.create(gpu, model, model.root, volume(LONG));
    await video.addPoints(0, 1, [[40, 40]], [1]);
    const memory: number[] = [];
    const created: number[] = [];
    let n = 0;
    for await (const r of video.propagate({ direction: 'forward' })) {
      expect(r.slice).toBe(n);
      expect(r.masks[0].length).toBe(96 * 80);
      memory.push(gpu.memory.allocatedBytes);
      if (process.env.SAM2_DEBUG_MEM && n > 0 && memory[n] !== memory[n - 1]) console.log(`slice ${n}: ${memory[n - 1]} -> ${memory[n]}`);
      created.push(gpu.memory.created);
      n++;
    }
    expect(n).toBe(LONG);
    // The bank holds the conditioning slice + 6 recent memories: it is full after ~8 slices.
    const warm = 16;
    expect(memory[LONG - 1]).toBe(memory[warm]);
    expect(created[LONG - 1]).toBe(created[warm]);
    video.dispose();
  });

  // Half the single-object length: the bank is full after ~8 slices either way.
  const PAIR = Math.ceil(LONG / 2);
  it(`two objects as one batched chain: flat GPU memory over ${PAIR} slices`, async () => {
    const video = Sam2Video.create(gpu, model, model.root, volume(PAIR));
    await video.addPoints(0, 1, [[40, 40]], [1]);
    await video.addPoints(0, 2, [[60, 30]], [1]);
    const batched = vi.spyOn(model, 'decodeBatchOnGpu');
    const memory: number[] = [];
    const created: number[] = [];
    for await (const r of video.propagate({ direction: 'forward' })) {
      expect(r.objIds).toEqual([1, 2]);
      memory.push(gpu.memory.allocatedBytes);
      created.push(gpu.memory.created);
      const k = memory.length - 1;
      if (process.env.SAM2_DEBUG_MEM && k > 0 && memory[k] !== memory[k - 1]) console.log(`slice ${k}: ${memory[k - 1]} -> ${memory[k]} (${created[k]} buffers)`);
    }
    expect(memory.length).toBe(PAIR);
    // Every tracked slice ran both objects as one chain (same memory shapes: prompted together).
    expect(batched.mock.calls.length).toBe(PAIR - 1);
    expect(batched.mock.calls.every((c) => c[0].shape[0] === 2)).toBe(true);
    batched.mockRestore();
    // Steady state up to the volume's tail: there the last slice is image-encoded alone (the
    // lookahead batch of 2 has run out), which may take one new neck-sized buffer once.
    const warm = 16;
    const end = PAIR - 3;
    expect(memory[end]).toBe(memory[warm]);
    expect(created[end]).toBe(created[warm]);
    video.dispose();
  });

  it('cancel stops after the slice in progress and keeps the finished slices', async () => {
    const reference: SliceResult[] = [];
    const a = Sam2Video.create(gpu, model, model.root, volume(12));
    await a.addPoints(2, 1, [[40, 40]], [1]);
    for await (const r of a.propagate({ direction: 'forward' })) reference.push(r);
    a.dispose();

    const b = Sam2Video.create(gpu, model, model.root, volume(12));
    await b.addPoints(2, 1, [[40, 40]], [1]);
    const got: SliceResult[] = [];
    for await (const r of b.propagate({ direction: 'forward' })) {
      got.push(r);
      if (r.slice === 6) b.cancel();
    }
    expect(got.map((r) => r.slice)).toEqual([2, 3, 4, 5, 6]);
    for (const r of got) {
      const ref = reference.find((x) => x.slice === r.slice)!;
      expect(r.lowRes[0]).toEqual(ref.lowRes[0]);
      // Finished slices stay available after the cancel.
      expect(b.sliceResult(r.slice, false).lowRes[0]).toEqual(ref.lowRes[0]);
    }
    b.dispose();
  });

  it('both directions from a prompted middle slice, two objects, each slice encoded once per pass', async () => {
    const src = volume(9);
    const video = Sam2Video.create(gpu, model, model.root, src, { nonOverlapMasks: true });
    await video.addPoints(4, 1, [[40, 40]], [1]);
    await video.addBox(4, 2, [10, 10, 60, 50]);
    const order: number[] = [];
    for await (const r of video.propagate({ direction: 'both' })) {
      order.push(r.slice);
      expect(r.objIds).toEqual([1, 2]);
      // Non-overlapping output: no pixel is foreground for both objects.
      for (let i = 0; i < r.masks[0].length; i++) expect(r.masks[0][i] & r.masks[1][i]).toBe(0);
    }
    // The independent passes run interleaved: one slice of each in turn, forward first.
    expect(order).toEqual([4, 3, 5, 2, 6, 1, 7, 0, 8]);
    // Slice 4: prompts + preflight; then every other slice once per pass.
    expect(video.imageEncodes).toBeLessThanOrEqual(9 + 1);
    video.dispose();
  });

  it('a correction on a tracked slice re-propagates from there when kept as a conditioning slice', async () => {
    const video = Sam2Video.create(gpu, model, model.root, volume(8), { addAllFramesToCorrectAsCond: true });
    await video.addPoints(0, 1, [[40, 40]], [1]);
    const first: Record<number, Float32Array> = {};
    for await (const r of video.propagate()) first[r.slice] = r.lowRes[0];
    const corrected = await video.addPoints(5, 1, [[40, 40], [70, 20]], [1, 0]);
    expect(corrected.lowRes[0]).not.toEqual(first[5]);
    const second: Record<number, Float32Array> = {};
    for await (const r of video.propagate({ from: 5 })) second[r.slice] = r.lowRes[0];
    expect(Object.keys(second).map(Number)).toEqual([5, 6, 7]);
    expect(second[5]).toEqual(corrected.lowRes[0]); // the conditioning output is reused
    expect(second[6]).not.toEqual(first[6]);
    video.dispose();
  });

  it('rejects bad prompts with clear errors', async () => {
    const video = Sam2Video.create(gpu, model, model.root, volume(4));
    await expect(video.addPoints(9, 1, [[1, 1]], [1])).rejects.toThrow(/slice 9 is outside the volume/);
    await expect(video.addPoints(0, 1, [[1, 1]], [1, 0])).rejects.toThrow(/1 points but 2 labels/);
    await expect(video.addBox(0, 1, [50, 50, 10, 10])).rejects.toThrow(/empty or inverted/);
    await expect(video.addMask(0, 1, new Uint8Array(5))).rejects.toThrow(/mask has 5 pixels/);
    await expect(async () => {
      for await (const _ of video.propagate()) void _;
    }).rejects.toThrow(/no prompts/);
    video.dispose();
  });
});
