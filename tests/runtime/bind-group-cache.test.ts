// Cached bind groups and content-addressed uniforms: hits on repeated launches, misses on any other
// buffer range, no stale binding when a pooled buffer goes to another tensor, entries dropped with
// destroyed buffers, uniform buffers rewritten only after the work that used them was submitted,
// and a micro propagation that is bit-identical with and without the cache while creating far
// fewer bind groups than it dispatches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binary, unary } from '../../src/kernels/elementwise/elementwise.js';
import { makeConfig } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { Sam2Video, type SliceResult } from '../../src/model/video-predictor.js';
import { BindGroupCache } from '../../src/runtime/bind-group-cache.js';
import { Gpu } from '../../src/runtime/gpu.js';
import { countSlices, steadyState, type CountedSlice } from '../../src/runtime/slice-counters.js';
import { UniformCache } from '../../src/runtime/uniform-cache.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { getTestGpu } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

let gpu: Gpu;
let plain: Gpu;
beforeAll(async () => {
  gpu = await getTestGpu();
  plain = await Gpu.create({ tunedCache: false, bindGroupCache: false });
});
afterAll(() => plain?.destroy());

function addRef(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((x, i) => Math.fround(x + b[i]));
}

describe('BindGroupCache', () => {
  it('hits on the same pipeline and ranges, misses on another range, forgets destroyed buffers, stays bounded', async () => {
    const cache = new BindGroupCache(gpu.device, 3);
    const a = gpu.upload(randomArray(64, 1), [64]);
    const b = gpu.upload(randomArray(64, 2), [64]);
    const out = gpu.empty([64]);
    // A real pipeline with two storage bindings and uniforms, as the elementwise kernels build it.
    const prog = (await import('../../src/kernels/elementwise/elementwise.js')).binaryProgram('add', a, b, out);
    const pipeline = gpu.pipelines.get(prog);
    const u = new UniformCache(gpu.device, () => 0).get(prog.uniforms!);
    const ranges = (ts: typeof a[]) => [...ts.map((t) => ({ buffer: t.buffer, offset: t.offset, size: t.byteLength })), u as { buffer: GPUBuffer; offset: number; size: number }];
    const first = cache.get(pipeline, ranges([a, b, out]), 'add');
    expect(first.hit).toBe(false);
    const again = cache.get(pipeline, ranges([a, b, out]), 'add');
    expect(again.hit).toBe(true);
    expect(again.group).toBe(first.group);
    expect(cache.get(pipeline, ranges([b, a, out]), 'add').hit).toBe(false);
    const smaller = [...ranges([a, b, out])];
    smaller[0] = { ...smaller[0], size: 32 };
    expect(cache.get(pipeline, smaller, 'add').hit).toBe(false);
    expect(cache.size).toBe(3);
    // Over capacity: the least recently used entry ([a, b, out] was used last but one) goes.
    cache.get(pipeline, ranges([out, b, a]), 'add');
    expect(cache.size).toBe(3);
    expect(cache.get(pipeline, ranges([a, b, out]), 'add').hit).toBe(false);
    // Forgetting a buffer drops every entry that binds it.
    cache.forget(a.buffer);
    expect(cache.size).toBe(0);
    for (const t of [a, b, out]) t.release();
    expect(() => new BindGroupCache(gpu.device, 0)).toThrow(/capacity/);
  });

  it('never binds stale contents when a pooled buffer goes to another tensor', async () => {
    const n = 1031;
    const b = gpu.upload(randomArray(n, 11), [n]);
    const a1 = gpu.upload(randomArray(n, 12), [n]);
    const a1Data = await gpu.read(a1);
    const bData = await gpu.read(b);
    const o1 = binary(gpu, 'add', a1, b);
    expect(await gpu.read(o1)).toEqual(addRef(a1Data, bData));
    const buffer = a1.buffer;
    a1.release();
    o1.release();
    const a2Data = randomArray(n, 13);
    const a2 = gpu.upload(a2Data, [n]);
    expect(a2.buffer).toBe(buffer); // the pool handed the same buffer out again
    const hits = gpu.counters.bindGroupCacheHits;
    const o2 = binary(gpu, 'add', a2, b);
    expect(gpu.counters.bindGroupCacheHits).toBe(hits + 1); // same ranges: the cached group
    expect(await gpu.read(o2)).toEqual(addRef(a2Data, bData));
    // Same buffers, another uniform (a scaled add, 2·(a + b)) into a NaN-poisoned output: another group, right result.
    const o4 = gpu.upload(new Float32Array(n).fill(NaN), [n]);
    binary(gpu, 'add', a2, b, o4, 2);
    expect(await gpu.read(o4)).toEqual(a2Data.map((x, i) => Math.fround(2 * Math.fround(x + bData[i]))));
    for (const t of [b, a2, o2, o4]) t.release();
  });

  it('drops the entries of buffers the pool destroys', async () => {
    const local = await Gpu.create({ tunedCache: false });
    try {
      const a = local.upload(randomArray(300, 3), [300]);
      const o = unary(local, 'gelu', a);
      await local.sync();
      const cache = (local as unknown as { bindGroups: BindGroupCache }).bindGroups;
      expect(cache.size).toBe(1);
      a.release();
      o.release();
      local.pool.trim();
      expect(cache.size).toBe(0);
    } finally {
      local.destroy();
    }
  });
});

describe('UniformCache', () => {
  it('keeps one buffer per content and rewrites an evicted one only after a submit', async () => {
    let submits = 0;
    const cache = new UniformCache(gpu.device, () => submits, 2);
    const u = (x: number) => new Uint8Array(new Float32Array([x, 1, 2]).buffer);
    const b1 = cache.get(u(1)).buffer;
    expect(cache.get(u(1)).buffer).toBe(b1);
    const b2 = cache.get(u(2)).buffer;
    expect(b2).not.toBe(b1);
    cache.get(u(3)); // evicts content 1 (least recently used); no submit since: no reuse yet
    const b4 = cache.get(u(4)).buffer;
    expect([b1, b2]).not.toContain(b4);
    expect(cache.buffers).toBe(4);
    submits++;
    const b5 = cache.get(u(5)).buffer;
    expect([b1, b2]).toContain(b5); // a retired buffer, after its work was submitted
    expect(cache.buffers).toBe(4);
    expect(cache.writes).toBe(5);
    cache.destroy();
  });
});

describe('bind groups in a micro propagation', () => {
  it('gives the same masks with and without the cache and creates far fewer bind groups than it dispatches', async () => {
    const config = makeConfig('micro');
    const file = syntheticWeightsFile(config);
    const run = async (g: Gpu) => {
      const model = await Sam2Model.load(g, file, config);
      const S = 64;
      const source: SliceSource = {
        numFrames: 16,
        width: S,
        height: S,
        loadImage: (t) => model.preprocess({ pixels: Uint8Array.from(randomArray(S * S, 50 + t, 0, 255)), width: S, height: S, channels: 1 }),
      };
      const video = Sam2Video.create(g, model, model.root, source);
      await video.addPoints(0, 1, [[30, 30]], [1]);
      await video.addPoints(0, 2, [[12, 50]], [1]);
      const counted: CountedSlice<SliceResult>[] = [];
      for await (const c of countSlices(g, video.propagate({ direction: 'forward' }))) counted.push(c);
      video.dispose();
      model.release();
      // Steady state: the bank is full, and away from the volume's end (where the lookahead
      // encoder batches shrink and new shapes appear).
      return { results: counted.map((c) => c.result), steady: steadyState(counted.slice(0, 14), 8) };
    };
    const cached = await run(gpu);
    const uncached = await run(plain);
    expect(cached.results.length).toBe(16);
    for (let t = 0; t < 16; t++) {
      expect(cached.results[t].lowRes).toEqual(uncached.results[t].lowRes);
      expect(cached.results[t].masks).toEqual(uncached.results[t].masks);
    }
    const c = cached.steady.perSlice;
    expect(c.dispatches).toBeGreaterThan(100);
    expect(c.bindGroupsCreated + c.bindGroupCacheHits).toBeCloseTo(c.dispatches, 6); // per-slice means: equal up to rounding
    // The misses left are mostly launches over the memory bank (batched objects gather it into new
    // buffers as memories enter and leave); an uncached run creates one group per dispatch.
    expect(c.bindGroupsCreated).toBeLessThan(c.dispatches / 2);
    expect(uncached.steady.perSlice.bindGroupsCreated).toBe(uncached.steady.perSlice.dispatches);
  });
});
