// The model workload the whole-model benchmarks share (bench:e2e, bench:gpu, bench:tune): synthetic
// weights of a preset at an image size (real shapes, so real timings; meaningless masks), and one
// tracked slice's components: image encoder, memory attention over a full bank, the SAM heads
// decode, and the memory encoder; plus propagation through a synthetic volume.
import { makeConfig, type Sam2Config } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { Sam2Video } from '../../src/model/video-predictor.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { countPropagation, type SteadyCounts } from '../../src/runtime/slice-counters.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { median } from './stats.js';
import { randomValues } from './tensors.js';

export async function loadSynthetic(gpu: Gpu, config: Sam2Config): Promise<Sam2Model> {
  return Sam2Model.load(gpu, syntheticWeightsFile(config), config);
}

export interface SliceComponent {
  name: string;
  /** Records (and for the decode, awaits) one run; releases what it produced. */
  run(): Promise<void> | void;
}

export interface SliceWorkload {
  config: Sam2Config;
  model: Sam2Model;
  /** The per-slice components, in the order of one tracked slice. */
  components: SliceComponent[];
  release(): void;
}

/** The model at `size` with fixed random inputs: a full bank of 1 + 6 memories and 16 object pointers. */
export async function sliceWorkload(gpu: Gpu, arch: string, size: number): Promise<SliceWorkload> {
  const config = makeConfig(arch, { imageSize: size });
  const model = await loadSynthetic(gpu, config);
  const S = size;
  const F = config.imageEmbeddingSize;
  const image = gpu.upload(randomValues(S * S * 3, 7, -2, 2), [S, S, 3]);
  const feats = model.encodeImage(image);
  const nMem = config.numMaskmem;
  const nPtrTokens = 16 * (config.hiddenDim / config.memDim);
  const rows = nMem * F * F + nPtrTokens;
  const memory = gpu.upload(randomValues(rows * config.memDim, 3), [rows, config.memDim]);
  const memoryPos = gpu.upload(randomValues(rows * config.memDim, 4), [rows, config.memDim]);
  const pix = model.attendMemory(feats.l2, memory, memoryPos, nPtrTokens);
  const hr = gpu.upload(randomValues(S * S, 5, -8, 8), [S, S]);
  const components: SliceComponent[] = [
    {
      name: 'image encoder',
      run: () => {
        const f = model.encodeImage(image);
        f.s0.release(); f.s1.release(); f.l2.release();
      },
    },
    { name: `memory attention (${nMem} mem + 16 ptr)`, run: () => model.attendMemory(feats.l2, memory, memoryPos, nPtrTokens).release() },
    {
      name: 'decode (tracking, multimask)',
      run: async () => {
        const o = await model.decode(pix, feats, {}, true);
        o.lowResMasks.release(); o.highResMasks.release(); o.objPtr.release();
      },
    },
    {
      name: 'decode (1 click)',
      run: async () => {
        const o = await model.decode(pix, feats, { points: new Float32Array([S / 2, S / 2]), labels: new Int32Array([1]) }, true);
        o.lowResMasks.release(); o.highResMasks.release(); o.objPtr.release();
      },
    },
    { name: 'memory encoder', run: () => model.encodeMemory(feats.l2, hr, false, 1).release() },
  ];
  return {
    config,
    model,
    components,
    release: () => {
      for (const t of [image, memory, memoryPos, pix, hr, feats.s0, feats.s1, feats.l2]) t.release();
      model.release();
    },
  };
}

/** Options of `propagate`: how many objects to track and how many tracked slices are warm-up. */
export interface PropagateBenchOptions {
  /** Objects clicked on slice 0 and tracked together (default 1). */
  objects?: number;
  /** Tracked slices left out of the steady-state counts (pipeline compiles, the bank filling; default 2, fewer when `slices` is short). */
  warmup?: number;
  /** Slices per image-encoder call (FeatureScheduler `encoderBatch`; default: the adapter's, 4 on GPUs, 2 on CPU adapters). */
  encoderBatch?: number;
}

/** Throughput of a propagation and its host work per tracked slice in the steady state. */
export interface PropagationBench {
  objects: number;
  /** Tracked slices (the prompted slice excluded). */
  slices: number;
  ms: number;
  slicesPerSecond: number;
  /** Means over the tracked slices after the warm-up (see src/runtime/slice-counters.ts). */
  steady: SteadyCounts;
}

/**
 * Tracks `objects` objects, each from its own click on slice 0, through `slices` more synthetic
 * slices; slices/s over all tracked slices and the steady-state counters per tracked slice.
 */
export async function propagate(gpu: Gpu, model: Sam2Model, size: number, slices: number, opts: PropagateBenchOptions = {}): Promise<PropagationBench> {
  const S = size;
  const objects = opts.objects ?? 1;
  const warmup = opts.warmup ?? Math.min(2, slices - 1);
  if (slices <= warmup) throw new Error(`propagate: ${slices} slices leave no steady state after ${warmup} warm-up slices`);
  const source: SliceSource = {
    numFrames: slices + 1,
    height: S,
    width: S,
    loadImage: (t) => gpu.upload(randomValues(S * S * 3, 100 + t, -2, 2), [S, S, 3]) as GpuTensor,
  };
  const video = Sam2Video.create(gpu, model, model.root, source, opts.encoderBatch ? { encoderBatch: opts.encoderBatch } : {});
  // Clicks spread over the slice, one per object.
  for (let k = 0; k < objects; k++) {
    const a = (2 * Math.PI * k) / Math.max(objects, 1);
    const r = objects > 1 ? S / 4 : 0;
    await video.addPoints(0, k + 1, [[S / 2 + r * Math.cos(a), S / 2 + r * Math.sin(a)]], [1]);
  }
  const t0 = performance.now();
  // Result 0 is the prompted slice; then `warmup` tracked slices.
  const { slices: counted, steady } = await countPropagation(gpu, video.propagate({ direction: 'forward' }), 1 + warmup);
  const ms = performance.now() - t0;
  video.dispose();
  const n = counted.filter((c) => c.result.slice > 0).length;
  return { objects, slices: n, ms, slicesPerSecond: (n / ms) * 1000, steady };
}

export interface ComponentTiming {
  component: string;
  gpuMs: number;
  wallMs: number;
  source: string;
}

/** Median GPU time (sum of the launch's kernels) and median wall time of `run` + sync, after a warm-up run. */
export async function timeComponent(gpu: Gpu, component: string, reps: number, run: () => Promise<void> | void): Promise<ComponentTiming> {
  await run(); // warm-up: compiles pipelines
  await gpu.sync();
  const gpuMs: number[] = [];
  const wallMs: number[] = [];
  let source = 'cpu';
  for (let r = 0; r < reps; r++) {
    gpu.startProfiling();
    const t0 = performance.now();
    await run();
    await gpu.sync();
    wallMs.push(performance.now() - t0);
    const prof = await gpu.stopProfiling();
    source = prof.source;
    gpuMs.push(prof.timings.reduce((a, t) => a + t.ns, 0) / 1e6);
  }
  return { component, gpuMs: median(gpuMs), wallMs: median(wallMs), source };
}
