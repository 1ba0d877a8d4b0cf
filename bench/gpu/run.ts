// One command for a GPU machine: `npm run bench:gpu`. Needs only Node and the repository (no
// network, no input); on a machine with an NVIDIA driver Dawn's Vulkan backend picks the GPU.
//   1. kernels: every GEMM / conv / attention variant side by side at sam2.1 hiera-t's real shapes
//      (the bench/kernels cases): median ms, GFLOPS, % of the adapter's stated peak;
//   2. whole slice at 512 and 1024 px (synthetic hiera-t weights): image encoder + memory attention
//      over a full bank + decode + memory encoder, GPU and wall ms, slices/s; then a short
//      propagation (slices/s as a user sees it) — with the heuristic kernel choice, and again with
//      the tuned-kernel cache (npm run bench:tune) when one exists for this adapter.
// Prints the tables and writes bench/results/gpu-<adapter-slug>.json naming the adapter.
//
//   npm run bench:gpu                     # everything (minutes on a GPU)
//   npm run bench:gpu -- --quick          # lavapipe smoke: few kernel cases and reps, 512 only
//   options: --sizes 512,1024  --slices N  --reps N  --target-ms N  --skip-kernels  --max-minutes N  --out FILE
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadTunedCache } from '../../src/kernels/tuning/node-cache.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { describeTarget } from '../../src/runtime/target.js';
import type { BenchCase } from '../lib/bench-case.js';
import { createBenchGpu } from '../lib/bench-gpu.js';
import { benchCaseVariants, type CaseVariants } from '../lib/kernel-bench.js';
import { propagate, sliceWorkload, timeComponent, type ComponentTiming } from '../lib/model-bench.js';
import { peakFor } from '../lib/peaks.js';
import { fmt, formatTable, slug } from '../lib/stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const KERNEL_OPS = ['matmul', 'conv', 'attention'];
/** --quick: a few representative shapes (the biggest GEMMs of each stage, patch embed, a downsampler). */
const QUICK_CASES = [/blk0 mlp fc1/, /stage3 mlp fc1/, /mem-attn ffn linear1/, /decoder image k_proj/, /patch embed/, /downsampler4/, /stage3 global/];

interface Args {
  arch: string;
  sizes: number[];
  slices: number;
  reps: number;
  targetMs: number;
  quick: boolean;
  skipKernels: boolean;
  maxMinutes: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { arch: 'sam2.1_hiera_t', sizes: [512, 1024], slices: 8, reps: 5, targetMs: 500, quick: false, skipKernels: false, maxMinutes: 60 };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    given.add(flag);
    if (flag === '--quick') a.quick = true;
    else if (flag === '--skip-kernels') a.skipKernels = true;
    else if (flag === '--arch') a.arch = value();
    else if (flag === '--sizes') a.sizes = value().split(',').map(Number);
    else if (flag === '--slices') a.slices = Number(value());
    else if (flag === '--reps') a.reps = Number(value());
    else if (flag === '--target-ms') a.targetMs = Number(value());
    else if (flag === '--max-minutes') a.maxMinutes = Number(value());
    else if (flag === '--out') a.out = value();
    else throw new Error(`bench:gpu: unknown argument ${argv[i]} (known: --quick --sizes --slices --reps --target-ms --skip-kernels --max-minutes --arch --out)`);
  }
  if (a.quick) {
    if (!given.has('--sizes')) a.sizes = [512];
    if (!given.has('--slices')) a.slices = 1;
    if (!given.has('--reps')) a.reps = 1;
    if (!given.has('--target-ms')) a.targetMs = 100;
    if (!given.has('--max-minutes')) a.maxMinutes = 20;
  }
  for (const [k, v] of Object.entries({ slices: a.slices, reps: a.reps, targetMs: a.targetMs, maxMinutes: a.maxMinutes })) {
    if (!(v > 0)) throw new Error(`bench:gpu: --${k} needs a positive number`);
  }
  return a;
}

async function kernelCases(args: Args): Promise<BenchCase[]> {
  const out: BenchCase[] = [];
  for (const op of KERNEL_OPS) {
    const file = path.join(HERE, '..', 'kernels', `${op}.bench.ts`);
    if (!fs.existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { benches: BenchCase[] };
    out.push(...mod.benches.filter((c) => (c.imageSize === 0 || args.sizes.includes(c.imageSize)) && (!args.quick || QUICK_CASES.some((r) => r.test(c.name)))));
  }
  return out;
}

interface SliceResult {
  size: number;
  kernels: 'heuristic' | 'tuned';
  components: ComponentTiming[];
  /** Image encoder + memory attention + tracking decode + memory encoder. */
  sliceGpuMs: number;
  sliceWallMs: number;
  slicesPerSecondGpu: number;
  slicesPerSecondWall: number;
  propagation?: { slices: number; ms: number; slicesPerSecond: number };
  error?: string;
}

const PER_SLICE = /^(image encoder|memory attention|decode \(tracking|memory encoder)/;

async function benchSlice(gpu: Gpu, args: Args, size: number, kernels: SliceResult['kernels']): Promise<SliceResult> {
  const w = await sliceWorkload(gpu, args.arch, size);
  try {
    const components: ComponentTiming[] = [];
    for (const c of w.components) components.push(await timeComponent(gpu, c.name, args.reps, c.run));
    const per = components.filter((c) => PER_SLICE.test(c.component));
    const sliceGpuMs = per.reduce((s, c) => s + c.gpuMs, 0);
    const sliceWallMs = per.reduce((s, c) => s + c.wallMs, 0);
    const propagation = await propagate(gpu, w.model, size, args.slices);
    return { size, kernels, components, sliceGpuMs, sliceWallMs, slicesPerSecondGpu: 1000 / sliceGpuMs, slicesPerSecondWall: 1000 / sliceWallMs, propagation };
  } finally {
    w.release();
    gpu.pool.trim();
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const deadline = started + args.maxMinutes * 60_000;
  // A hung device must not hold the machine: give up well after the soft budget.
  const hard = setTimeout(() => {
    console.error(`bench:gpu: no progress ${args.maxMinutes + 10} minutes after the start; exiting`);
    process.exit(2);
  }, (args.maxMinutes + 10) * 60_000);
  hard.unref();
  const overBudget = () => performance.now() > deadline;

  const gpu = await createBenchGpu({ tunedCache: false });
  const adapter = gpu.adapterName;
  const peak = peakFor(adapter);
  const tuned = await loadTunedCache();
  const tunedHere = tuned?.entries(adapter).length ?? 0;
  console.log(`adapter: ${adapter}`);
  console.log(`target: ${describeTarget(gpu.target)}; timing: ${gpu.features.timestamps ? 'GPU timestamps' : 'CPU clock'}`);
  console.log(`stated peak: ${peak ? `${peak.name}: ${peak.fp32} TFLOPS FP32${peak.f16Matrix ? `, ${peak.f16Matrix} TFLOPS FP16 matrix` : ''}` : 'unknown'}`);
  console.log(`tuned-kernel cache: ${tunedHere ? `${tunedHere} entries for this adapter` : 'none for this adapter (npm run bench:tune)'}`);
  const skipped: string[] = [];

  // 1. Kernel variants at the model's shapes.
  const kernels: CaseVariants[] = [];
  if (!args.skipKernels) {
    const cases = await kernelCases(args);
    console.log(`\n== kernels: ${cases.length} cases at ${args.sizes.join(', ')} px, every supported variant ==`);
    for (const c of cases) {
      if (overBudget()) {
        skipped.push(`kernel case ${c.name}`);
        continue;
      }
      const r = await benchCaseVariants(gpu, c, { targetMs: args.targetMs, minIters: 2, maxIters: 200 });
      kernels.push(r);
      for (const v of r.runs) console.log(`  ${c.name} [${v.variant}${v.chosen ? '*' : ''}]: ${v.error ? `ERROR ${v.error}` : `${fmt(v.m?.medianMs, 3)} ms, ${fmt(v.gflops, 1)} GFLOPS${v.peakPct !== undefined ? `, ${fmt(v.peakPct, 1)} % of peak` : ''}`}`);
    }
  }

  // 2. Whole slices and propagation, heuristic then tuned.
  const slices: SliceResult[] = [];
  const modes: Array<SliceResult['kernels']> = tunedHere ? ['heuristic', 'tuned'] : ['heuristic'];
  for (const mode of modes) {
    gpu.kernels.tuned = mode === 'tuned' ? tuned : undefined;
    for (const size of args.sizes) {
      if (overBudget()) {
        skipped.push(`slice ${size} px (${mode})`);
        continue;
      }
      console.log(`\n== ${args.arch} @ ${size} px, ${mode} kernels ==`);
      try {
        const r = await benchSlice(gpu, args, size, mode);
        slices.push(r);
        console.log(formatTable(['component', 'GPU ms', 'wall ms'], r.components.map((c) => [c.component, fmt(c.gpuMs, 2), fmt(c.wallMs, 2)]), [false, true, true]));
        console.log(`slice: ${fmt(r.sliceGpuMs, 2)} GPU ms = ${fmt(r.slicesPerSecondGpu, 2)} slices/s (wall ${fmt(r.slicesPerSecondWall, 2)}); ` +
          `propagation: ${r.propagation!.slices} slices at ${fmt(r.propagation!.slicesPerSecond, 2)} slices/s`);
      } catch (e) {
        const error = (e as Error).message.split('\n')[0];
        console.log(`  ERROR ${error}`);
        slices.push({ size, kernels: mode, components: [], sliceGpuMs: NaN, sliceWallMs: NaN, slicesPerSecondGpu: NaN, slicesPerSecondWall: NaN, error });
      }
    }
  }

  // Summary tables.
  console.log(`\nadapter: ${adapter}   (* = the engine's choice here)`);
  if (kernels.length) {
    console.log(formatTable(
      ['case', 'variant', 'median ms', 'GFLOPS', '% peak'],
      kernels.flatMap((k) => k.runs.map((v) => [k.name, `${v.variant}${v.chosen ? '*' : ''}`, v.error ? 'ERROR' : fmt(v.m?.medianMs, 3), fmt(v.gflops, 1), fmt(v.peakPct, 1)])),
      [false, false, true, true, true],
    ));
  }
  console.log(formatTable(
    ['size', 'kernels', 'slice GPU ms', 'slices/s (GPU)', 'slices/s (wall)', 'propagation slices/s'],
    slices.map((s) => [String(s.size), s.kernels, s.error ? 'ERROR' : fmt(s.sliceGpuMs, 1), fmt(s.slicesPerSecondGpu, 2), fmt(s.slicesPerSecondWall, 2), fmt(s.propagation?.slicesPerSecond, 2)]),
    [true, false, true, true, true, true],
  ));
  if (skipped.length) console.log(`skipped after --max-minutes ${args.maxMinutes}: ${skipped.join('; ')}`);

  const file = args.out ? path.resolve(args.out) : path.join(HERE, '..', 'results', `gpu-${slug(adapter)}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const json = {
    adapter,
    target: gpu.target,
    peak: peak ? { name: peak.name, fp32Tflops: peak.fp32, f16MatrixTflops: peak.f16Matrix } : null,
    timing: gpu.features.timestamps ? 'timestamp' : 'cpu',
    arch: args.arch,
    args,
    date: new Date().toISOString(),
    node: process.version,
    tunedEntries: tunedHere,
    kernels: kernels.map((k) => ({
      name: k.name,
      imageSize: k.imageSize,
      runs: k.runs.map((v) => ({ variant: v.variant, chosen: v.chosen, cfg: v.cfg, medianMs: v.m?.medianMs, gflops: v.gflops, peakPct: v.peakPct, gbps: v.gbps, error: v.error, kernels: v.m?.kernels })),
    })),
    slices,
    skipped,
    seconds: (performance.now() - started) / 1000,
  };
  fs.writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
  console.log(`results: ${path.relative(process.cwd(), file)} (${json.seconds.toFixed(0)} s)`);
  gpu.destroy();
  const failed = kernels.some((k) => k.runs.some((v) => v.error)) || slices.some((s) => s.error);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
