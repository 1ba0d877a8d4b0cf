// End-to-end benchmark of the model on the adapter it runs on: per component (image encoder,
// memory attention with a full bank, SAM heads decode, memory encoder) the median GPU time from
// timestamp queries (CPU-clock fallback otherwise) and the median wall time including host
// round trips; then propagation throughput (slices/s) of Sam2Video over a synthetic volume.
// Weights are synthetic (real shapes, so real timings; meaningless masks). Propagation also reports
// the host work per tracked slice in the steady state (dispatches, submits, bind groups created,
// blocking awaits; src/runtime/slice-counters.ts) for 1, 2 and 4 objects tracked together.
//
//   npm run bench:e2e                         # hiera-t at 512 px, 6 propagated slices, 1/2/4 objects
//   npm run bench:e2e -- --sizes 512,1024 --slices 8 --arch sam2.1_hiera_t
//   npm run bench:e2e -- --model micro --propagation-only     # the fixtures' micro model (256 px), fast
//   options: --model hiera-t|micro  --arch A  --sizes S,..  --slices N  --warmup N  --objects 1,2,4
//            --reps N  --propagation-only  --full  --encoder-batch N (the GPU default is 4, CPU adapters 2)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeConfig } from '../../src/model/config.js';
import type { Sam2Model } from '../../src/model/sam2-model.js';
import type { Gpu, GpuCounters } from '../../src/runtime/gpu.js';
import { createBenchGpu } from '../lib/bench-gpu.js';
import { loadSynthetic, propagate, sliceWorkload, timeComponent, type ComponentTiming, type PropagationBench } from '../lib/model-bench.js';
import { fmt, formatTable, slug } from '../lib/stats.js';

interface Args {
  arch: string;
  sizes: number[];
  slices: number;
  warmup: number;
  objects: number[];
  reps: number;
  propagationOnly: boolean;
  encoderBatch?: number;
}

/** `--model` names: the default hiera-t at 512 px, or the fixtures' micro model at its 256 px. */
const MODELS: Record<string, { arch: string; size: number }> = {
  'hiera-t': { arch: 'sam2.1_hiera_t', size: 512 },
  micro: { arch: 'micro', size: 256 },
};

function parseArgs(argv: string[]): Args {
  const a: Args = { arch: 'sam2.1_hiera_t', sizes: [512], slices: 6, warmup: 2, objects: [1, 2, 4], reps: 3, propagationOnly: false };
  const list = (v: string, flag: string) => {
    const out = v?.split(',').map(Number);
    if (!out || out.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`bench:e2e: ${flag} takes positive integers separated by commas, got ${v}`);
    return out;
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--arch') (a.arch = v), i++;
    else if (argv[i] === '--model') {
      const m = MODELS[v];
      if (!m) throw new Error(`bench:e2e: --model ${v} is unknown (known: ${Object.keys(MODELS).join(', ')})`);
      (a.arch = m.arch), (a.sizes = [m.size]), i++;
    } else if (argv[i] === '--sizes') (a.sizes = list(v, '--sizes')), i++;
    else if (argv[i] === '--slices') (a.slices = list(v, '--slices')[0]), i++;
    else if (argv[i] === '--warmup') (a.warmup = Number(v)), i++;
    else if (argv[i] === '--objects') (a.objects = list(v, '--objects')), i++;
    else if (argv[i] === '--reps') (a.reps = Number(v)), i++;
    else if (argv[i] === '--propagation-only') a.propagationOnly = true;
    else if (argv[i] === '--full') a.sizes = [512, 1024];
    else if (argv[i] === '--encoder-batch') (a.encoderBatch = list(v, '--encoder-batch')[0]), i++;
    else throw new Error(`bench:e2e: unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(a.warmup) || a.warmup < 0 || a.warmup >= a.slices) {
    throw new Error(`bench:e2e: --warmup ${a.warmup} must be a whole number below --slices ${a.slices}`);
  }
  return a;
}

async function benchSize(gpu: Gpu, args: Args, size: number) {
  const results: ComponentTiming[] = [];
  let model: Sam2Model;
  let release: () => void;
  if (args.propagationOnly) {
    model = await loadSynthetic(gpu, makeConfig(args.arch, { imageSize: size }));
    release = () => model.release();
  } else {
    const w = await sliceWorkload(gpu, args.arch, size);
    for (const c of w.components) results.push(await timeComponent(gpu, c.name, args.reps, c.run));
    (model = w.model), (release = w.release);
  }
  const propagation: PropagationBench[] = [];
  for (const objects of args.objects) propagation.push(await propagate(gpu, model, size, args.slices, { objects, warmup: args.warmup, encoderBatch: args.encoderBatch }));
  release();
  return { size, results, propagation };
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
    if (r.results.length) {
      console.log(
        formatTable(
          ['component', 'GPU ms', 'wall ms', 'timing'],
          r.results.map((c) => [c.component, fmt(c.gpuMs, 1), fmt(c.wallMs, 1), c.source]),
          [false, true, true, false],
        ),
      );
    }
    console.log(`propagation: ${args.slices} tracked slices per run, encoder batch ${args.encoderBatch ?? (gpu.target.kind === 'gpu' ? 4 : 2)}; per tracked slice after ${args.warmup} warm-up slices:`);
    console.log(
      formatTable(
        ['objects', 'dispatches', 'submits', 'bind groups', 'bg cache hits', 'blocking awaits', 'async reads', 'slices/s (steady)', 'slices/s (all)'],
        r.propagation.map((p) => {
          const c = p.steady.perSlice as GpuCounters & { bindGroupCacheHits?: number };
          return [String(p.objects), fmt(c.dispatches, 1), fmt(c.submits, 1), fmt(c.bindGroupsCreated, 1), c.bindGroupCacheHits === undefined ? '-' : fmt(c.bindGroupCacheHits, 1),
            fmt(c.blockingAwaits, 1), fmt(c.asyncReads, 1), fmt(p.steady.slicesPerSecond, 3), fmt(p.slicesPerSecond, 3)];
        }),
        [true, true, true, true, true, true, true, true, true],
      ),
    );
  }
  const dir = join(import.meta.dirname ?? '.', '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `e2e-${args.arch === 'micro' ? 'micro-' : ''}${slug(gpu.adapterName)}.json`);
  writeFileSync(file, JSON.stringify({ adapter: gpu.adapterName, arch: args.arch, date: new Date().toISOString(), sizes: out }, null, 1));
  console.log(`\nwrote ${file}`);
  gpu.destroy();
}

await main();
