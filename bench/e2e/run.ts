// End-to-end benchmark of the model on the adapter it runs on: per component (image encoder,
// memory attention with a full bank, SAM heads decode, memory encoder) the median GPU time from
// timestamp queries (CPU-clock fallback otherwise) and the median wall time including host
// round trips; then propagation throughput (slices/s) of Sam2Video over a synthetic volume.
// Weights are synthetic (real shapes, so real timings; meaningless masks).
//
//   npm run bench:e2e                         # hiera-t at 512 px, 4 propagated slices
//   npm run bench:e2e -- --sizes 512,1024 --slices 8 --arch sam2.1_hiera_t
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { makeConfig, type Sam2Config } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { stateDictSpec } from '../../src/model/state-dict-spec.js';
import { Sam2Video } from '../../src/model/video-predictor.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { synthesizeTensor } from '../../src/weights/synthetic.js';
import { createBenchGpu } from '../lib/bench-gpu.js';
import { fmt, formatTable, median, slug } from '../lib/stats.js';
import { randomValues } from '../lib/tensors.js';

interface Args {
  arch: string;
  sizes: number[];
  slices: number;
  reps: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { arch: 'sam2.1_hiera_t', sizes: [512], slices: 4, reps: 3 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--arch') (a.arch = v), i++;
    else if (argv[i] === '--sizes') (a.sizes = v.split(',').map(Number)), i++;
    else if (argv[i] === '--slices') (a.slices = Number(v)), i++;
    else if (argv[i] === '--reps') (a.reps = Number(v)), i++;
    else if (argv[i] === '--full') a.sizes = [512, 1024];
    else throw new Error(`bench:e2e: unknown argument ${argv[i]}`);
  }
  return a;
}

async function loadSynthetic(gpu: Gpu, config: Sam2Config): Promise<Sam2Model> {
  const tensors = stateDictSpec(config).map(({ key, shape }) => ({ name: key, dtype: 'F32' as const, shape, data: synthesizeTensor(key, shape) }));
  return Sam2Model.load(gpu, parseSafetensors(serializeSafetensors(tensors)), config);
}

interface ComponentTiming {
  component: string;
  gpuMs: number;
  wallMs: number;
  source: string;
}

/** Median GPU time (sum of the launch's kernels) and median wall time of `run` + sync. */
async function time(gpu: Gpu, component: string, reps: number, run: () => Promise<void> | void): Promise<ComponentTiming> {
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

async function benchSize(gpu: Gpu, args: Args, size: number) {
  const config = makeConfig(args.arch, { imageSize: size });
  const model = await loadSynthetic(gpu, config);
  const S = size;
  const F = config.imageEmbeddingSize;
  const image = gpu.upload(randomValues(S * S * 3, 7, -2, 2), [S, S, 3]);
  const feats = model.encodeImage(image);
  // A full bank: 1 conditioning + 6 recent memories and 16 object pointers.
  const nMem = config.numMaskmem;
  const nPtrTokens = 16 * (config.hiddenDim / config.memDim);
  const rows = nMem * F * F + nPtrTokens;
  const memory = gpu.upload(randomValues(rows * config.memDim, 3), [rows, config.memDim]);
  const memoryPos = gpu.upload(randomValues(rows * config.memDim, 4), [rows, config.memDim]);
  const pix = model.attendMemory(feats.l2, memory, memoryPos, nPtrTokens);
  const hr = gpu.upload(randomValues(S * S, 5, -8, 8), [S, S]);
  const results: ComponentTiming[] = [];
  results.push(await time(gpu, 'image encoder', args.reps, () => {
    const f = model.encodeImage(image);
    f.s0.release(); f.s1.release(); f.l2.release();
  }));
  results.push(await time(gpu, 'memory attention (7 mem + 16 ptr)', args.reps, () => model.attendMemory(feats.l2, memory, memoryPos, nPtrTokens).release()));
  results.push(await time(gpu, 'decode (tracking, multimask)', args.reps, async () => {
    const o = await model.decode(pix, feats, {}, true);
    o.lowResMasks.release(); o.highResMasks.release(); o.objPtr.release();
  }));
  results.push(await time(gpu, 'decode (1 click)', args.reps, async () => {
    const o = await model.decode(pix, feats, { points: new Float32Array([S / 2, S / 2]), labels: new Int32Array([1]) }, true);
    o.lowResMasks.release(); o.highResMasks.release(); o.objPtr.release();
  }));
  results.push(await time(gpu, 'memory encoder', args.reps, () => model.encodeMemory(feats.l2, hr, false, 1).release()));
  for (const t of [image, memory, memoryPos, pix, hr, feats.s0, feats.s1, feats.l2]) t.release();

  // Propagation through a synthetic volume: one object, a click on the first slice.
  const source: SliceSource = {
    numFrames: args.slices + 1,
    height: S,
    width: S,
    loadImage: (t) => gpu.upload(randomValues(S * S * 3, 100 + t, -2, 2), [S, S, 3]) as GpuTensor,
  };
  const video = Sam2Video.create(gpu, model, model.root, source);
  await video.addPoints(0, 1, [[S / 2, S / 2]], [1]);
  const t0 = performance.now();
  let n = 0;
  for await (const r of video.propagate({ direction: 'forward' })) if (r.slice > 0) n++;
  const propMs = performance.now() - t0;
  video.dispose();
  model.release();
  return { size, results, propagation: { slices: n, ms: propMs, slicesPerSecond: (n / propMs) * 1000 } };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const gpu = await createBenchGpu();
  console.log(`adapter: ${gpu.adapterName}  (timestamps: ${gpu.features.timestamps ? 'yes' : 'no, CPU clock'})`);
  const out = [];
  for (const size of args.sizes) {
    console.log(`\n${args.arch} @ ${size} px`);
    const r = await benchSize(gpu, args, size);
    out.push(r);
    console.log(
      formatTable(
        ['component', 'GPU ms', 'wall ms', 'timing'],
        r.results.map((c) => [c.component, fmt(c.gpuMs, 1), fmt(c.wallMs, 1), c.source]),
        [false, true, true, false],
      ),
    );
    console.log(`propagation: ${r.propagation.slices} slices in ${fmt(r.propagation.ms / 1000, 1)} s = ${fmt(r.propagation.slicesPerSecond, 3)} slices/s`);
  }
  const dir = join(import.meta.dirname ?? '.', '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `e2e-${slug(gpu.adapterName)}.json`);
  writeFileSync(file, JSON.stringify({ adapter: gpu.adapterName, arch: args.arch, date: new Date().toISOString(), sizes: out }, null, 1));
  console.log(`\nwrote ${file}`);
  gpu.destroy();
}

await main();
