// Propagation survives the GPU (issue 13, item 1): a simulated out-of-memory error and a device
// destroyed mid-propagation both stop the run with the right message, deliver no wrong mask, and
// `resumeOn` + `resumePropagation` on another device finish with exactly the masks (and low-res
// logits) of an uninterrupted run. Micro model, synthetic weights, a 9-slice volume.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SafetensorsFile } from '../../src/io/safetensors.js';
import { makeConfig } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { Sam2Video, type SliceResult } from '../../src/model/video-predictor.js';
import { Gpu } from '../../src/runtime/gpu.js';
import { GpuDeviceLostError, GpuError } from '../../src/runtime/gpu-errors.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { getTestGpu } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

const N = 9;
const W = 72;
const H = 64;
const config = makeConfig('micro');
let file: SafetensorsFile;
let gpu: Gpu;
let model: Sam2Model;
const others: Gpu[] = [];

function slicePixels(t: number): Uint8Array {
  const px = new Uint8Array(W * H);
  const noise = randomArray(W * H, t + 1, 0, 20);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const d = Math.hypot(x - 30 - 6 * Math.sin(t / 3), y - 30);
      px[y * W + x] = Math.min(255, (d < 14 ? 200 : 60) + noise[y * W + x]);
    }
  return px;
}

function source(m: Sam2Model): SliceSource {
  return {
    numFrames: N,
    width: W,
    height: H,
    loadImage: (t: number) => m.preprocess({ pixels: slicePixels(t), width: W, height: H, channels: 1 }),
  };
}

/** Two objects (clicks, and a mask prompt), both directions from slice 4, as the CLI propagates. */
async function prompted(g: Gpu, m: Sam2Model, publicForm = false): Promise<Sam2Video> {
  // The package's form (model, loadSlice) sees the same pixels as the engine's (SliceSource).
  const video = publicForm
    ? Sam2Video.create(m, { numFrames: N, width: W, height: H, loadSlice: slicePixels })
    : Sam2Video.create(g, m, m.root, source(m));
  await video.addPoints(4, 1, [[30, 30], [50, 50]], [1, 0]);
  const mask = new Uint8Array(W * H);
  for (let y = 35; y < 55; y++) for (let x = 40; x < 62; x++) mask[y * W + x] = 1;
  await video.addMask(4, 2, mask);
  return video;
}

const RUN = { direction: 'both' } as const;
let reference: SliceResult[] = [];
/** Pool allocations after each reference slice, counted from a freshly loaded model. */
let allocationsAfter: number[] = [];

async function loadOn(g: Gpu): Promise<Sam2Model> {
  return Sam2Model.load(g, file, config);
}

beforeAll(async () => {
  file = syntheticWeightsFile(config);
  gpu = await getTestGpu();
  model = await loadOn(gpu);
  const created0 = gpu.memory.created;
  const video = await prompted(gpu, model);
  for await (const r of video.propagate(RUN)) {
    reference.push(r);
    allocationsAfter.push(gpu.memory.created - created0);
  }
  video.dispose();
  // The two passes run interleaved (a failure strikes with both in progress).
  expect(reference.map((r) => r.slice)).toEqual([4, 3, 5, 2, 6, 1, 7, 0, 8]);
});

afterAll(() => {
  for (const g of others) g.destroy();
});

/** `results` equal the reference's first results.length slices (all of them unless `prefix`). */
function expectSameAsReference(results: SliceResult[], prefix = false): void {
  expect(results.map((r) => r.slice)).toEqual(reference.slice(0, prefix ? results.length : reference.length).map((r) => r.slice));
  results.forEach((r, i) => {
    const ref = reference[i];
    expect(r.objIds).toEqual(ref.objIds);
    r.masks.forEach((m, k) => expect(m, `slice ${r.slice} object ${r.objIds[k]} mask`).toEqual(ref.masks[k]));
    r.lowRes.forEach((l, k) => expect(l, `slice ${r.slice} object ${r.objIds[k]} logits`).toEqual(ref.lowRes[k]));
    expect(r.objectScores).toEqual(ref.objectScores);
  });
}

/** Runs `video`'s propagation until it throws; returns the slices it delivered and the error. */
async function runUntilError(video: Sam2Video, onSlice: (n: number) => void = () => undefined): Promise<{ done: SliceResult[]; error: unknown }> {
  const done: SliceResult[] = [];
  try {
    for await (const r of video.propagate(RUN)) {
      done.push(r);
      onSlice(done.length);
    }
  } catch (error) {
    return { done, error };
  }
  return { done, error: null };
}

describe('resume after a GPU failure', () => {
  it('device.destroy() mid-propagation: "GPU device lost", then a resume on another device matches an uninterrupted run', async () => {
    const lostGpu = await Gpu.create();
    others.push(lostGpu);
    const lostModel = await loadOn(lostGpu);
    const video = await prompted(lostGpu, lostModel);
    const { done, error } = await runUntilError(video, (n) => {
      if (n === 3) lostGpu.device.destroy();
    });
    expect(error).toBeInstanceOf(GpuDeviceLostError);
    expect((error as Error).message).toMatch(/^GPU device lost: destroyed/);
    expect(done.length).toBe(3);
    expect(video.interrupted).toBe(true);

    const resumed = await video.resumeOn(gpu, model, model.root, source(model));
    video.dispose();
    const rest: SliceResult[] = [];
    for await (const r of resumed.resumePropagation()) rest.push(r);
    expect(resumed.interrupted).toBe(false);
    resumed.dispose();
    expectSameAsReference([...done, ...rest]);
  });

  it('a simulated out-of-memory error mid-propagation names the tensor, delivers no wrong mask, and resumes (package form: resumeOn(model))', async () => {
    // Fail an allocation the run makes after its first slices (the memory bank is still growing).
    expect(allocationsAfter[N - 1], 'the reference run allocates while it propagates').toBeGreaterThan(allocationsAfter[0]);
    const oomGpu = await Gpu.create();
    others.push(oomGpu);
    const oomModel = await loadOn(oomGpu);
    oomGpu.errors.inject({ failAllocation: allocationsAfter[0] + 1 });
    const video = await prompted(oomGpu, oomModel, true);
    const { done, error } = await runUntilError(video);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as GpuError).kind).toBe('out-of-memory');
    expect((error as Error).message).toMatch(/^GPU out of memory allocating tensor "[^"]+" \(/);
    // Stopped mid-run, and every slice delivered before the error is right.
    expect(done.length).toBeGreaterThan(0);
    expect(done.length).toBeLessThan(N);
    expectSameAsReference(done, true);

    // The package's form: the same weights on another device; the slices come from loadSlice.
    const resumed = await video.resumeOn(model);
    video.dispose();
    const rest: SliceResult[] = [];
    for await (const r of resumed.resumePropagation()) rest.push(r);
    resumed.dispose();
    expectSameAsReference([...done, ...rest]);
  });

  it('refuses to resume on a different volume or model', async () => {
    const video = await prompted(gpu, model);
    await expect(video.resumeOn(gpu, model, model.root, { ...source(model), numFrames: N + 1 })).rejects.toThrow(/resume: the new volume has 10 slices/);
    await expect(video.resumeOn(model)).rejects.toThrow(/created from a SliceSource/);
    video.dispose();
    await expect(video.resumePropagation().next()).rejects.toThrow(/no interrupted propagation/);
  });
});
