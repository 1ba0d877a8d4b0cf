// Times one benchmark instance with the runtime's profiler: GPU timestamps where the adapter has
// `timestamp-query` (each dispatch in its own timed pass), else the CPU-clock fallback of
// Gpu.startProfiling. While a WebGPU promise is pending the `webgpu` package busy-polls and takes a
// core away from a software adapter, so the timed batch is submitted whole and the host sleeps for
// its expected duration before awaiting it.
import type { Gpu } from '../../src/runtime/gpu.js';
import type { KernelTiming } from '../../src/runtime/profiler.js';
import type { BenchInstance } from './bench-case.js';
import { median } from './stats.js';

export interface MeasureOptions {
  /** Aim for this much timed work per case (ms). */
  targetMs: number;
  minIters: number;
  maxIters: number;
}

export interface KernelBreakdown {
  /** Program key (`name[variant]{constants}`) of this dispatch position in a launch. */
  kernel: string;
  medianMs: number;
  flops?: number;
  bytes?: number;
}

export interface Measurement {
  iterations: number;
  /** Dispatches recorded by one launch. */
  dispatches: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Per launch, summed over its dispatches (undefined when a kernel does not declare them). */
  flops?: number;
  bytes?: number;
  /** Wall time of the first launch + sync: includes compiling the pipelines (cold or from Mesa's cache). */
  firstRunMs: number;
  source: 'timestamp' | 'cpu';
  kernels: KernelBreakdown[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sumOrUndefined(values: Array<number | undefined>): number | undefined {
  return values.every((v) => v !== undefined) ? values.reduce<number>((a, v) => a + (v as number), 0) : undefined;
}

export async function measure(gpu: Gpu, inst: BenchInstance, opts: MeasureOptions): Promise<Measurement> {
  let t0 = performance.now();
  inst.launch();
  await gpu.sync();
  const firstRunMs = performance.now() - t0;

  // Wall-clock estimate of one launch (compiled), to size the timed batch and the sleep.
  let estimate = Infinity;
  for (let rep = 0, spent = 0; rep < 3 && (rep < 1 || spent < 300); rep++) {
    t0 = performance.now();
    inst.launch();
    await gpu.sync();
    const dt = performance.now() - t0;
    estimate = Math.min(estimate, dt);
    spent += dt;
  }
  const iterations = Math.max(opts.minIters, Math.min(opts.maxIters, Math.round(opts.targetMs / Math.max(estimate, 1e-3))));

  gpu.startProfiling();
  for (let i = 0; i < iterations; i++) inst.launch();
  gpu.flush();
  await sleep(Math.max(0, estimate * iterations * 0.9 - 5));
  const { timings, source } = await gpu.stopProfiling();

  if (timings.length === 0 || timings.length % iterations !== 0) {
    throw new Error(`${timings.length} profiled dispatches over ${iterations} launches: launch() must record the same dispatches every time`);
  }
  const dispatches = timings.length / iterations;
  const perLaunch: KernelTiming[][] = [];
  for (let i = 0; i < iterations; i++) perLaunch.push(timings.slice(i * dispatches, (i + 1) * dispatches));
  const launchMs = perLaunch.map((ts) => ts.reduce((a, t) => a + t.ns, 0) / 1e6);
  const first = perLaunch[0];
  return {
    iterations,
    dispatches,
    medianMs: median(launchMs),
    minMs: Math.min(...launchMs),
    maxMs: Math.max(...launchMs),
    flops: sumOrUndefined(first.map((t) => t.flops)),
    bytes: sumOrUndefined(first.map((t) => t.bytes)),
    firstRunMs,
    source,
    kernels: first.map((t, d) => ({
      kernel: t.name,
      medianMs: median(perLaunch.map((ts) => ts[d].ns / 1e6)),
      flops: t.flops,
      bytes: t.bytes,
    })),
  };
}
