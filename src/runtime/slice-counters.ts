// Host work per tracked slice: the Gpu's counters (dispatches, submits, bind groups, blocking
// awaits, ...) sampled between the results of a propagation, and their steady-state mean. bench:e2e
// reports these; tests use them to assert what a slice costs the host (e.g. 0 blocking awaits).

import type { Gpu, GpuCounters } from './gpu.js';

/** One result of a propagation and what the host did between the previous result and this one. */
export interface CountedSlice<T> {
  result: T;
  /** Counter increments since the previous result (or since counting started). */
  counts: GpuCounters;
  /** Wall time since the previous result, ms. */
  ms: number;
}

/** Steady-state means over the counted slices (warm-up excluded). */
export interface SteadyCounts {
  /** Slices averaged. */
  slices: number;
  /** Mean counter increments per slice. */
  perSlice: GpuCounters;
  /** Wall time of the averaged slices, ms. */
  ms: number;
  slicesPerSecond: number;
}

/** b − a, field by field. */
export function counterDelta(a: GpuCounters, b: GpuCounters): GpuCounters {
  const out = { ...b };
  for (const k of Object.keys(out) as (keyof GpuCounters)[]) out[k] = b[k] - (a[k] ?? 0);
  return out;
}

/**
 * Passes the results of `results` through, each with the counter increments and wall time since
 * the previous one. With asynchronous mask delivery a result may arrive after later slices' work
 * was recorded; per-slice increments are still exact on average over the steady state.
 */
export async function* countSlices<T>(gpu: Gpu, results: AsyncIterable<T>): AsyncGenerator<CountedSlice<T>> {
  let before = gpu.counters;
  let t0 = performance.now();
  for await (const result of results) {
    const now = gpu.counters;
    const t1 = performance.now();
    yield { result, counts: counterDelta(before, now), ms: t1 - t0 };
    // Restart after the consumer's own work (e.g. checks in a test), so it is not counted.
    before = gpu.counters;
    t0 = performance.now();
  }
}

/** Mean counts and throughput over `slices` after dropping the first `skip` (prompted slice, warm-up). */
export function steadyState<T>(slices: readonly CountedSlice<T>[], skip: number): SteadyCounts {
  const kept = slices.slice(skip);
  if (kept.length === 0) throw new Error(`steadyState: ${slices.length} slices counted, none left after skipping ${skip}`);
  const sum = { ...kept[0].counts };
  for (const k of Object.keys(sum) as (keyof GpuCounters)[]) sum[k] = 0;
  let ms = 0;
  for (const s of kept) {
    for (const k of Object.keys(sum) as (keyof GpuCounters)[]) sum[k] += s.counts[k];
    ms += s.ms;
  }
  for (const k of Object.keys(sum) as (keyof GpuCounters)[]) sum[k] /= kept.length;
  return { slices: kept.length, perSlice: sum, ms, slicesPerSecond: (kept.length / ms) * 1000 };
}

/** Counts a whole propagation: every result with its counts, and the steady state after `skip` results. */
export async function countPropagation<T>(gpu: Gpu, results: AsyncIterable<T>, skip: number): Promise<{ slices: CountedSlice<T>[]; steady: SteadyCounts }> {
  const slices: CountedSlice<T>[] = [];
  for await (const s of countSlices(gpu, results)) slices.push(s);
  return { slices, steady: steadyState(slices, skip) };
}
