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
import type { Gpu } from '../../src/runtime/gpu.js';
import { createBenchGpu } from '../lib/bench-gpu.js';
import { propagate, sliceWorkload, timeComponent, type ComponentTiming } from '../lib/model-bench.js';
import { fmt, formatTable, slug } from '../lib/stats.js';

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

async function benchSize(gpu: Gpu, args: Args, size: number) {
  const w = await sliceWorkload(gpu, args.arch, size);
  const results: ComponentTiming[] = [];
  for (const c of w.components) results.push(await timeComponent(gpu, c.name, args.reps, c.run));
  const propagation = await propagate(gpu, w.model, size, args.slices);
  w.release();
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
