// The per-slice counters bench:e2e reports and tests assert on: each result gets exactly the work
// recorded since the previous one, consumer work between results is not counted, and the steady
// state drops the warm-up.
import { beforeAll, describe, expect, it } from 'vitest';
import { binary } from '../../src/kernels/elementwise/elementwise.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { counterDelta, countSlices, steadyState, type CountedSlice } from '../../src/runtime/slice-counters.js';
import { getTestGpu } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await getTestGpu();
});

/** A fake propagation: slice t records `dispatches[t]` additions and one blocking read. */
async function* slices(dispatches: number[]): AsyncGenerator<number> {
  const a = gpu.upload(randomArray(37, 1), [37]);
  for (let t = 0; t < dispatches.length; t++) {
    let x = a;
    for (let k = 0; k < dispatches[t]; k++) {
      const y = binary(gpu, 'add', x, a);
      if (x !== a) x.release();
      x = y;
    }
    await gpu.read(x);
    if (x !== a) x.release();
    yield t;
  }
  a.release();
}

describe('slice counters', () => {
  it('counts the work of each slice, not the consumer work between slices', async () => {
    const counted: CountedSlice<number>[] = [];
    for await (const c of countSlices(gpu, slices([5, 1, 3, 3, 3]))) {
      counted.push(c);
      await gpu.sync(); // the consumer's work: must not land in the next slice's counts
    }
    expect(counted.map((c) => c.result)).toEqual([0, 1, 2, 3, 4]);
    expect(counted.map((c) => c.counts.dispatches)).toEqual([5, 1, 3, 3, 3]);
    expect(counted.map((c) => c.counts.blockingAwaits)).toEqual([1, 1, 1, 1, 1]);
    expect(counted.every((c) => c.counts.submits >= 1 && c.ms >= 0)).toBe(true);
    const steady = steadyState(counted, 2);
    expect(steady.slices).toBe(3);
    expect(steady.perSlice.dispatches).toBe(3);
    expect(steady.perSlice.blockingAwaits).toBe(1);
    expect(steady.slicesPerSecond).toBeGreaterThan(0);
  });

  it('takes differences and means field by field', () => {
    const a = { dispatches: 10, submits: 2, bindGroupsCreated: 10, bindGroupCacheHits: 0, blockingAwaits: 1, asyncReads: 0 };
    const b = { dispatches: 17, submits: 5, bindGroupsCreated: 12, bindGroupCacheHits: 5, blockingAwaits: 1, asyncReads: 3 };
    expect(counterDelta(a, b)).toEqual({ dispatches: 7, submits: 3, bindGroupsCreated: 2, bindGroupCacheHits: 5, blockingAwaits: 0, asyncReads: 3 });
    const s = steadyState([{ result: 0, counts: a, ms: 5 }, { result: 1, counts: b, ms: 10 }, { result: 2, counts: a, ms: 30 }], 1);
    expect(s.perSlice).toEqual({ dispatches: 13.5, submits: 3.5, bindGroupsCreated: 11, bindGroupCacheHits: 2.5, blockingAwaits: 1, asyncReads: 1.5 });
    expect(s.ms).toBe(40);
    expect(s.slicesPerSecond).toBe(50);
    expect(() => steadyState([{ result: 0, counts: a, ms: 1 }], 1)).toThrow(/none left after skipping 1/);
  });
});
