// Autotuner: `npm run bench:tune` records the real launch specs of sam2.1 hiera-t (image encoder,
// memory attention over a full bank, SAM heads, memory encoder) at 512 and 1024 px on the live
// adapter, dedupes them by (op, shape bucket), times every supported variant × config of each op
// family (after checking its result against the CPU-class default) and stores the winners in the
// tuned-kernel cache that Gpu.create reads: adapter → op → bucket → { id, cfg, ms }.
//
//   npm run bench:tune                                   # hiera-t, 512 and 1024 px, all ops
//   npm run bench:tune -- --quick                        # 512 only, first config per variant, short timing
//   npm run bench:tune -- --ops matmul --sizes 1024 --max-buckets 4
//   options: --arch NAME, --out FILE (default: the cache Gpu.create reads), --report FILE, --target-ms N
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonTuningCache } from '../../src/kernels/tuning/json-cache.js';
import { defaultTunedCachePath, loadTunedCache, saveTunedCache } from '../../src/kernels/tuning/node-cache.js';
import { describeTarget } from '../../src/runtime/target.js';
import { createBenchGpu } from '../lib/bench-gpu.js';
import { sliceWorkload } from '../lib/model-bench.js';
import { fmt, formatTable, slug } from '../lib/stats.js';
import { LaunchRecorder } from './record.js';
import { candidateLabel, tuneLaunch, type LaunchTuning } from './tune-launch.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface TuneArgs {
  arch: string;
  sizes: number[];
  ops?: string[];
  quick: boolean;
  maxBuckets: number;
  targetMs: number;
  out?: string;
  report?: string;
}

export function parseTuneArgs(argv: string[]): TuneArgs {
  const a: TuneArgs = { arch: 'sam2.1_hiera_t', sizes: [512, 1024], quick: false, maxBuckets: Infinity, targetMs: 300 };
  let sizesGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--quick') a.quick = true;
    else if (flag === '--arch') a.arch = value();
    else if (flag === '--sizes') (a.sizes = value().split(',').map(Number)), (sizesGiven = true);
    else if (flag === '--ops') a.ops = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (flag === '--max-buckets') a.maxBuckets = Number(value());
    else if (flag === '--target-ms') a.targetMs = Number(value());
    else if (flag === '--out') a.out = value();
    else if (flag === '--report') a.report = value();
    else throw new Error(`bench:tune: unknown argument ${argv[i]} (known: --quick --arch --sizes --ops --max-buckets --target-ms --out --report)`);
  }
  if (a.quick && !sizesGiven) a.sizes = [512];
  if (a.quick && a.targetMs === 300) a.targetMs = 50;
  if (!a.sizes.every((s) => Number.isInteger(s) && s > 0 && s % 16 === 0)) throw new Error(`--sizes must be multiples of 16, got ${a.sizes}`);
  if (!(a.maxBuckets > 0)) throw new Error('--max-buckets needs a positive number');
  return a;
}

export interface TuneReport {
  adapter: string;
  target: string;
  arch: string;
  sizes: number[];
  date: string;
  cacheFile: string;
  launches: Array<LaunchTuning & { count: number; sizes: number[] }>;
}

export async function runTune(args: TuneArgs, log: (s: string) => void = console.log): Promise<TuneReport> {
  const gpu = await createBenchGpu({ tunedCache: false });
  const adapter = gpu.adapterName;
  log(`adapter: ${adapter} [${describeTarget(gpu.target)}] (timing: ${gpu.features.timestamps ? 'GPU timestamps' : 'CPU clock'})`);
  try {
    // 1. Record the model's launches.
    const recorder = new LaunchRecorder();
    for (const size of args.sizes) {
      const t0 = performance.now();
      const w = await sliceWorkload(gpu, args.arch, size);
      await recorder.record(gpu, size, async () => {
        for (const c of w.components) await c.run();
      });
      w.release();
      gpu.pool.trim();
      log(`recorded ${args.arch} @ ${size}: ${recorder.launches.size} (op, bucket) pairs so far (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    // 2. Tune each (op, bucket), the most frequent first.
    const byOp = new Map<string, ReturnType<LaunchRecorder['list']>>();
    for (const l of recorder.list(args.ops).sort((x, y) => y.count - x.count)) {
      const list = byOp.get(l.family.op) ?? [];
      if (list.length < args.maxBuckets) list.push(l);
      byOp.set(l.family.op, list);
    }
    const file = args.out ? path.resolve(args.out) : await defaultTunedCachePath();
    if (!file) throw new Error('the tuned-kernel cache is disabled (SAM2_TUNED_CACHE=off): pass --out FILE');
    const cache = (await loadTunedCache(file)) ?? new JsonTuningCache();
    const report: TuneReport = { adapter, target: describeTarget(gpu.target), arch: args.arch, sizes: args.sizes, date: new Date().toISOString(), cacheFile: file, launches: [] };
    const opts = { quick: args.quick, targetMs: args.targetMs, minIters: args.quick ? 2 : 5, maxIters: args.quick ? 20 : 200, tolF32: 1e-3, tolF16: 1e-2 };
    for (const [op, list] of byOp) {
      for (const l of list) {
        const t0 = performance.now();
        const r = await tuneLaunch(gpu, l.family, l.spec, opts);
        gpu.pool.trim();
        report.launches.push({ ...r, count: l.count, sizes: [...l.sizes] });
        if (r.winner) cache.set(adapter, op, r.bucket, { id: r.winner.id, cfg: r.winner.cfg, ms: r.winner.ms });
        const h = r.candidates.find((c) => c.id === r.heuristic.id && JSON.stringify(c.cfg) === JSON.stringify(r.heuristic.cfg));
        log(`${op} ${r.bucket} ×${l.count}: ${r.winner ? `${candidateLabel(r.winner)} ${fmt(r.winner.ms, 3)} ms` : 'no candidate ran'}` +
          (h?.ms && r.winner?.ms ? ` (heuristic ${candidateLabel(h)} ${fmt(h.ms, 3)} ms, ×${fmt(h.ms / r.winner.ms, 2)})` : '') +
          ` [${r.candidates.length} candidates, ${((performance.now() - t0) / 1000).toFixed(1)} s]`);
        for (const c of r.candidates.filter((x) => x.error)) log(`    ${candidateLabel(c)}: ${c.error}`);
      }
    }
    await saveTunedCache(cache, file);
    log(`\n${cache.entries(adapter).length} tuned entries for this adapter in ${file}`);
    log(formatTable(
      ['op', 'bucket', 'count', 'winner', 'ms', 'heuristic ms'],
      report.launches.map((r) => {
        const h = r.candidates.find((c) => c.id === r.heuristic.id && JSON.stringify(c.cfg) === JSON.stringify(r.heuristic.cfg));
        return [r.op, r.bucket, String(r.count), r.winner ? candidateLabel(r.winner) : '-', fmt(r.winner?.ms, 3), fmt(h?.ms, 3)];
      }),
      [false, false, true, false, true, true],
    ));
    const reportFile = args.report ?? path.join(HERE, '..', 'results', `tune-${slug(adapter)}.json`);
    fs.mkdirSync(path.dirname(reportFile), { recursive: true });
    fs.writeFileSync(reportFile, `${JSON.stringify(report, null, 1)}\n`);
    log(`report: ${path.relative(process.cwd(), reportFile)}`);
    return report;
  } finally {
    gpu.destroy();
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  runTune(parseTuneArgs(process.argv.slice(2))).then(
    () => process.exit(0),
    (e) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : e);
      process.exit(1);
    },
  );
}
