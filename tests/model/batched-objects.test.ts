// Several objects as one B>1 chain (memory attention, SAM heads, memory encoder) against the same
// steps run once per object, on random inputs: item b of the batch must equal object b's result
// (relL2 ≤ 1e-6: the same kernels over the same rows). Micro and hiera-t@512 with synthetic weights,
// f32 and f16 activations. Unwritten output regions would show up as NaN: the buffer pool is
// filled with NaN buffers of the output sizes before every batched run.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeConfig, type Sam2Config } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { Sam2Video } from '../../src/model/video-predictor.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { FLAG } from '../../src/kernels/decisions/decisions.js';
import { assertClose } from '../helpers/compare.js';
import { blobVolume } from '../helpers/blob-volume.js';
import { getTestGpu } from '../helpers/gpu.js';
import { nanArray, randomArray } from '../helpers/random.js';

const TOL = { relL2: 1e-6 };
const B = 3;

let gpu: Gpu;
beforeAll(async () => {
  gpu = await getTestGpu();
});

async function load(config: Sam2Config, precision?: string): Promise<Sam2Model> {
  const file = syntheticWeightsFile(config);
  return Sam2Model.load(gpu, file, { config, precision });
}

/** Returns NaN-filled buffers of these element counts to the pool, so fresh outputs start poisoned. */
function poisonPool(sizes: number[]): void {
  const ts = sizes.map((n) => gpu.upload(nanArray(n), [n], 'f32', 'poison'));
  for (const t of ts) t.release();
}

function up(n: number, seed: number, shape: number[], lo = -1, hi = 1): GpuTensor {
  return gpu.upload(randomArray(n, seed, lo, hi), shape);
}

/** Stacks host arrays into one [B·n] upload (the per-object inputs, batched). */
function stack(parts: Float32Array[], shape: number[]): GpuTensor {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return gpu.upload(out, shape);
}

async function rows(t: GpuTensor, b: number, n: number): Promise<Float32Array> {
  return (await gpu.read(t)).slice(b * n, (b + 1) * n);
}

/** `frames`: spatial memories per object (hiera-t keeps one: lavapipe is slow at 1024 tokens each). */
const cases: Array<{ name: string; config: () => Sam2Config; precision?: string; frames: number }> = [
  { name: 'micro f32', config: () => makeConfig('micro'), frames: 2 },
  { name: 'micro act=f16', config: () => makeConfig('micro'), precision: 'act=f16', frames: 2 },
  { name: 'hiera-t@512 f32', config: () => makeConfig('sam2.1_hiera_t', { imageSize: 512 }), frames: 1 },
];

describe.each(cases)('batched objects ($name)', ({ config, precision, frames }) => {
  let model: Sam2Model;
  let F: number;
  let C: number;
  let md: number;
  let S: number;
  let s0: GpuTensor;
  let s1: GpuTensor;
  let l2: GpuTensor;

  beforeAll(async () => {
    const cfg = config();
    if (precision && !gpu.features.f16) return;
    model = await load(cfg, precision);
    F = cfg.imageEmbeddingSize;
    C = cfg.hiddenDim;
    md = cfg.memDim;
    S = cfg.imageSize;
    l2 = up(F * F * C, 11, [F, F, C]);
    s0 = up(16 * F * F * (C / 8), 12, [4 * F, 4 * F, C / 8]);
    s1 = up(4 * F * F * (C / 4), 13, [2 * F, 2 * F, C / 4]);
  }, 600_000);

  it('memory attention: each object attends to its own memory', async () => {
    if (!model) return;
    // Spatial memories + 2 object pointers (split into C / memDim tokens each) per object.
    const ptrTokens = 2 * (C / md);
    const m = frames * F * F + ptrTokens;
    const mems = Array.from({ length: B }, (_, b) => randomArray(m * md, 100 + b));
    const poss = Array.from({ length: B }, (_, b) => randomArray(m * md, 200 + b, -0.5, 0.5));
    const expected: Float32Array[] = [];
    for (let b = 0; b < B; b++) {
      const mem = gpu.upload(mems[b], [m, md]);
      const pos = gpu.upload(poss[b], [m, md]);
      const o = model.attendMemory(l2, mem, pos, ptrTokens);
      expected.push(await gpu.read(o));
      [mem, pos, o].forEach((t) => t.release());
    }
    const mem = stack(mems, [B * m, md]);
    const pos = stack(poss, [B * m, md]);
    poisonPool([B * F * F * C, B * F * F * 3 * C]);
    const out = model.attendMemoryBatch(l2, mem, pos, B, ptrTokens);
    expect(out.shape).toEqual([B, F, F, C]);
    for (let b = 0; b < B; b++) assertClose(`memattn object ${b}`, await rows(out, b, F * F * C), expected[b], TOL);
    // Objects differ (a batch that repeated object 0 must not pass).
    expect(Math.abs(expected[1][0] - expected[0][0])).toBeGreaterThan(0);
    [mem, pos, out].forEach((t) => t.release());
  }, 600_000);

  it('memory encoder: per-object masks, binarization and absent objects', async () => {
    if (!model) return;
    const masks = Array.from({ length: B }, (_, b) => randomArray(S * S, 400 + b, -8, 8));
    const objects = masks.map((_, b) => ({ binarize: b === 0, objectScoreLogit: b === 1 ? -3 : 2 + b }));
    const expected: Float32Array[] = [];
    const tensors = masks.map((m) => gpu.upload(m, [S, S]));
    for (let b = 0; b < B; b++) {
      const o = model.encodeMemory(l2, tensors[b], objects[b].binarize, objects[b].objectScoreLogit);
      expected.push(await gpu.read(o));
      o.release();
    }
    poisonPool([B * F * F * md, B * S * S, B * F * F * C]);
    const out = model.encodeMemoryBatch(l2, objects.map((o, b) => ({ ...o, highResMasks: tensors[b] })));
    expect(out.size).toBe(B * F * F * md);
    for (let b = 0; b < B; b++) assertClose(`memenc object ${b}`, await rows(out, b, F * F * md), expected[b], TOL);
    [out, ...tensors].forEach((t) => t.release());
  }, 600_000);

  it.each([true, false])('SAM heads (multimask %s): each object decoded as if alone', async (multimask) => {
    if (!model) return;
    const feats = { s0, s1, l2 };
    const low = 4 * F;
    // Objects at different scales (their decisions and presence may differ).
    const pixHost = Array.from({ length: B }, (_, b) => randomArray(F * F * C, 600 + b, -1 - 2 * b, 1 + 2 * b));
    const expected: Array<{ low: Float32Array; high: Float32Array; ptr: Float32Array; flags: Uint32Array }> = [];
    for (const p of pixHost) {
      const pix = gpu.upload(p, [F, F, C]);
      const o = model.decodeOnGpu(pix, feats, {}, multimask);
      expected.push({
        low: await gpu.read(o.lowResMasks),
        high: await gpu.read(o.highResMasks),
        ptr: await gpu.read(o.objPtr),
        flags: new Uint32Array(await gpu.readRaw(o.flags)),
      });
      [pix, o.lowResMasks, o.highResMasks, o.objPtr, o.flags].forEach((t) => t.release());
    }
    const pix = stack(pixHost, [B, F, F, C]);
    poisonPool([B * low * low, B * S * S, B * C, B * 4 * low * low, B * 4 * F * F * (C / 8), B * F * F * C]);
    const o = model.decodeBatchOnGpu(pix, feats, {}, multimask);
    expect(o.lowResMasks.shape).toEqual([B, low, low]);
    expect(o.highResMasks.shape).toEqual([B, S, S]);
    expect(o.objPtr.shape).toEqual([B, C]);
    const stride = o.flags.size / B;
    const flags = new Uint32Array(await gpu.readRaw(o.flags));
    const bits = new Float32Array(flags.buffer);
    for (let b = 0; b < B; b++) {
      const want = expected[b];
      assertClose(`low-res object ${b}`, await rows(o.lowResMasks, b, low * low), want.low, TOL);
      assertClose(`high-res object ${b}`, await rows(o.highResMasks, b, S * S), want.high, TOL);
      assertClose(`obj_ptr object ${b}`, await rows(o.objPtr, b, C), want.ptr, TOL);
      // The decisions (presence, selected / first / token / best mask, stability, areas) are the same.
      expect([...flags.slice(b * stride, b * stride + FLAG.stability)]).toEqual([...want.flags.slice(0, FLAG.stability)]);
      const wantBits = new Float32Array(want.flags.buffer);
      assertClose(`score and IoUs object ${b}`, Float32Array.of(bits[b * stride + FLAG.score], ...bits.slice(b * stride + FLAG.iou, (b + 1) * stride)), Float32Array.of(wantBits[FLAG.score], ...wantBits.slice(FLAG.iou, stride)), TOL);
    }
    // Objects differ (a batch that repeated object 0 must not pass).
    expect(expected[1].low.some((v, i) => v !== expected[0].low[i])).toBe(true);
    [pix, o.lowResMasks, o.highResMasks, o.objPtr, o.flags].forEach((t) => t.release());
  }, 600_000);

  it('memory encoder: stacked masks and flags of the batched SAM heads', async () => {
    if (!model) return;
    const feats = { s0, s1, l2 };
    const pix = stack(Array.from({ length: B }, (_, b) => randomArray(F * F * C, 700 + b, -1 - 3 * b, 1 + 3 * b)), [B, F, F, C]);
    const h = model.decodeBatchOnGpu(pix, feats, {}, false);
    pix.release();
    const expected: Float32Array[] = [];
    const flagsHost = new Uint32Array(await gpu.readRaw(h.flags));
    const stride = h.flags.size / B;
    for (let b = 0; b < B; b++) {
      const mask = gpu.upload(await rows(h.highResMasks, b, S * S), [S, S]);
      const flags = gpu.upload(flagsHost.slice(b * stride, (b + 1) * stride), [1, stride], 'u32');
      const m = model.encodeMemory(l2, mask, false, flags);
      expected.push(await gpu.read(m));
      [m, mask, flags].forEach((t) => t.release());
    }
    poisonPool([B * F * F * md, B * S * S, B * F * F * C]);
    const out = model.encodeMemoryBatch(l2, { highResMasks: h.highResMasks, binarize: false, flags: h.flags });
    for (let b = 0; b < B; b++) assertClose(`memenc (stacked) object ${b}`, await rows(out, b, F * F * md), expected[b], TOL);
    [out, h.lowResMasks, h.highResMasks, h.objPtr, h.flags].forEach((t) => t.release());
  }, 600_000);

  it('memory encoder: presence from the GPU decision flags', async () => {
    if (!model) return;
    const feats = { s0, s1, l2 };
    // Each object's own decoder run: its mask and its flags (objects at different scales).
    const heads = Array.from({ length: B }, (_, b) => {
      const pix = gpu.upload(randomArray(F * F * C, 500 + b, -1 - 2 * b, 1 + 2 * b), [F, F, C]);
      const o = model.decodeOnGpu(pix, feats, {}, true);
      pix.release();
      return o;
    });
    const expected: Float32Array[] = [];
    for (const o of heads) {
      const m = model.encodeMemory(l2, o.highResMasks, false, o.flags);
      expected.push(await gpu.read(m));
      m.release();
    }
    poisonPool([B * F * F * md, B * S * S, B * F * F * C]);
    const out = model.encodeMemoryBatch(l2, heads.map((o) => ({ highResMasks: o.highResMasks, binarize: false, objectScoreLogit: o.flags })));
    for (let b = 0; b < B; b++) assertClose(`memenc (flags) object ${b}`, await rows(out, b, F * F * md), expected[b], TOL);
    out.release();
    for (const o of heads) [o.lowResMasks, o.highResMasks, o.objPtr, o.flags].forEach((t) => t.release());
  }, 600_000);
});

describe('Sam2Video runs memory attention, the SAM heads and the memory encoder of several objects as one chain', () => {
  let model: Sam2Model;
  beforeAll(async () => {
    model = await load(makeConfig('micro'));
  }, 300_000);

  /** A drifting blob volume (96×80 slices). */
  function volume(numFrames: number): SliceSource {
    return blobVolume(model, { numFrames, width: 96, height: 80, centres: [[40, 40]], radius: 18, drift: { amplitude: 10, period: 9 } });
  }

  // Objects 1 and 2 are prompted on slice 2 (same memory shape on every slice: one batch); object
  // 3 on slice 4 (its own group until the shapes meet). Both directions.
  const prompts: Array<{ id: number; slice: number; pt: [number, number] }> = [
    { id: 1, slice: 2, pt: [40, 40] },
    { id: 2, slice: 2, pt: [60, 30] },
    { id: 3, slice: 4, pt: [20, 50] },
  ];

  async function run(objects: typeof prompts, direction: 'forward' | 'backward'): Promise<Map<number, Float32Array[]>> {
    const video = Sam2Video.create(gpu, model, model.root, volume(9));
    for (const p of objects) await video.addPoints(p.slice, p.id, [p.pt], [1]);
    const out = new Map<number, Float32Array[]>();
    for await (const r of video.propagate({ from: direction === 'forward' ? 2 : 7, direction })) {
      r.objIds.forEach((id, k) => out.set(id, [...(out.get(id) ?? []), r.lowRes[k]]));
    }
    video.dispose();
    return out;
  }

  it.each(['forward', 'backward'] as const)('%s: each object as if it were tracked alone', async (direction) => {
    const batched = vi.spyOn(model, 'attendMemoryBatch');
    const encoded = vi.spyOn(model, 'encodeMemoryBatch');
    const decoded = vi.spyOn(model, 'decodeBatchOnGpu');
    const together = await run(prompts, direction);
    // The batched chain ran (objects 1 and 2 share their memory shape on every slice).
    expect(batched.mock.calls.some((c) => c[3] >= 2)).toBe(true);
    expect(encoded.mock.calls.some((c) => ('flags' in c[1] ? c[1].highResMasks.shape[0] : c[1].length) >= 2)).toBe(true);
    expect(decoded.mock.calls.some((c) => c[0].shape[0] >= 2)).toBe(true);
    batched.mockRestore();
    encoded.mockRestore();
    decoded.mockRestore();
    for (const p of prompts) {
      const alone = (await run([p], direction)).get(p.id)!;
      const got = together.get(p.id)!;
      expect(got.length).toBe(alone.length);
      alone.forEach((want, i) => assertClose(`object ${p.id} slice #${i}`, got[i], want, TOL));
    }
  }, 600_000);
});
