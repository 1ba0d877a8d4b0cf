// Kernel benchmark: times every case of bench/kernels/*.bench.ts at real SAM 2 shapes on the
// WebGPU adapter Node gets (Dawn: lavapipe here, a real GPU elsewhere), once per kernel variant
// that supports the case (side by side: GEMM regblock / tiled / subgroup / subgroup-matrix, conv
// direct / implicit GEMM, ...; `*` marks what the engine picks here), and reports median ms, GFLOPS
// (from the programs' `flops`), % of the adapter's stated peak where known (bench/lib/peaks.ts)
// and GB/s (`bytes`), with the adapter in every result.
//
//   npm run bench:kernels                       512-px shapes (and size-independent ones)
//   npm run bench:kernels -- --full             also the 1024-px shapes
//   npm run bench:kernels -- --filter attention only cases whose name contains the text
//   options: --list (names only), --chosen (only the engine's pick), --variants a,b (only these ids),
//            --target-ms N (timed work per variant, default 1000), --out FILE
//
// Results are merged by (case, variant) into bench/results/kernels-<adapter-slug>.json (or --out):
// entries of this run replace older ones, entries of cases that no longer exist are dropped, and
// every entry keeps its own date, so a filtered run updates only what it measured.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchCase } from '../lib/bench-case.js';
import { createBenchGpu } from '../lib/bench-gpu.js';
import { benchCaseVariants } from '../lib/kernel-bench.js';
import type { Measurement } from '../lib/measure.js';
import { peakFor } from '../lib/peaks.js';
import { fmt, formatTable, slug } from '../lib/stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');

interface Args {
  full: boolean;
  filter: string;
  list: boolean;
  chosen: boolean;
  variants?: string[];
  targetMs: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { full: false, filter: '', list: false, chosen: false, targetMs: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--full') args.full = true;
    else if (flag === '--list') args.list = true;
    else if (flag === '--chosen') args.chosen = true;
    else if (flag === '--variants') args.variants = value().split(',').map((v) => v.trim());
    else if (flag === '--filter') args.filter = value();
    else if (flag === '--out') args.out = value();
    else if (flag === '--target-ms') {
      args.targetMs = Number(value());
      if (!(args.targetMs > 0)) throw new Error('--target-ms needs a positive number');
    } else throw new Error(`unknown argument ${argv[i]} (known: --full --filter S --list --chosen --variants a,b --target-ms N --out FILE)`);
  }
  return args;
}

/** Every case from bench/kernels/*.bench.ts, op = file name. */
async function loadCases(): Promise<Array<BenchCase & { op: string }>> {
  const cases: Array<BenchCase & { op: string }> = [];
  const names = new Set<string>();
  for (const file of fs.readdirSync(HERE).filter((f) => f.endsWith('.bench.ts')).sort()) {
    const op = file.replace(/\.bench\.ts$/, '');
    const mod = (await import(pathToFileURL(path.join(HERE, file)).href)) as { benches?: BenchCase[] };
    if (!Array.isArray(mod.benches)) throw new Error(`bench/kernels/${file} does not export \`benches: BenchCase[]\``);
    for (const c of mod.benches) {
      if (names.has(c.name)) throw new Error(`duplicate bench case name "${c.name}" (in ${file})`);
      names.add(c.name);
      cases.push({ ...c, op });
    }
  }
  return cases;
}

interface ResultEntry {
  name: string;
  op: string;
  /** Kernel variant forced for this entry ('default' when the case is outside any op family). */
  variant: string;
  /** What the engine picks here unforced. */
  chosen: boolean;
  peakPct?: number;
  imageSize: number;
  adapter: string;
  date: string;
  commit: string;
  timing: 'timestamp' | 'cpu';
  medianMs: number;
  minMs: number;
  maxMs: number;
  iterations: number;
  dispatches: number;
  firstRunMs: number;
  flops?: number;
  bytes?: number;
  gflops?: number;
  gbps?: number;
  kernels: Measurement['kernels'];
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const all = await loadCases();
  const selected = all.filter((c) => (args.full || c.imageSize !== 1024) && c.name.includes(args.filter));
  if (args.list) {
    for (const c of all) console.log(`${selected.includes(c) ? '*' : ' '} ${c.name}`);
    return 0;
  }
  if (selected.length === 0) throw new Error(`no bench case matches${args.filter ? ` "${args.filter}"` : ''} (try --list)`);

  const gpu = await createBenchGpu();
  const adapter = gpu.adapterName;
  const commit = gitCommit();
  const peak = peakFor(adapter);
  console.log(
    `adapter: ${adapter} (timing: ${gpu.features.timestamps ? 'GPU timestamps' : 'CPU clock'}), ${selected.length} cases, commit ${commit}` +
      `\nstated peak: ${peak ? `${peak.name}, ${peak.fp32} TFLOPS FP32${peak.f16Matrix ? `, ${peak.f16Matrix} TFLOPS FP16 matrix` : ''}` : 'unknown (% of peak shows "-")'}`,
  );

  const entries: ResultEntry[] = [];
  const failures: string[] = [];
  const started = performance.now();
  for (const c of selected) {
    try {
      const r = await benchCaseVariants(gpu, c, { targetMs: args.targetMs, minIters: 3, maxIters: 200, chosenOnly: args.chosen, variants: args.variants });
      for (const v of r.runs) {
        if (v.error || !v.m) {
          failures.push(`${c.name} [${v.variant}]: ${v.error}`);
          console.log(`  ${c.name} [${v.variant}]: ERROR ${v.error}`);
          continue;
        }
        const m = v.m;
        const e: ResultEntry = {
          name: c.name,
          op: c.op,
          variant: v.variant,
          chosen: v.chosen,
          imageSize: c.imageSize,
          adapter,
          date: new Date().toISOString(),
          commit,
          timing: m.source,
          medianMs: m.medianMs,
          minMs: m.minMs,
          maxMs: m.maxMs,
          iterations: m.iterations,
          dispatches: m.dispatches,
          firstRunMs: m.firstRunMs,
          flops: m.flops,
          bytes: m.bytes,
          gflops: v.gflops,
          gbps: v.gbps,
          peakPct: v.peakPct,
          kernels: m.kernels,
        };
        entries.push(e);
        console.log(
          `  ${c.name} [${v.variant}${v.chosen ? '*' : ''}]: ${fmt(e.medianMs, 3)} ms` +
            (e.gflops !== undefined ? `, ${fmt(e.gflops, 2)} GFLOPS` : '') +
            (e.peakPct !== undefined ? ` (${fmt(e.peakPct, 1)} % of peak)` : '') +
            (e.gbps !== undefined ? `, ${fmt(e.gbps, 2)} GB/s` : '') +
            ` (${e.iterations} runs, first run ${fmt(e.firstRunMs / 1000, 1)} s)`,
        );
      }
    } catch (err) {
      const msg = (err as Error).message;
      failures.push(`${c.name}: ${msg}`);
      console.log(`  ${c.name}: ERROR ${msg}`);
    }
  }
  const totalS = (performance.now() - started) / 1000;

  console.log(`\nadapter: ${adapter}   (* = the engine's choice on this adapter)`);
  console.log(
    formatTable(
      ['case', 'variant', 'disp', 'median ms', 'min ms', 'GFLOPS', '% peak', 'GB/s', 'runs', 'first s'],
      entries.map((e) => [
        e.name,
        `${e.variant}${e.chosen ? '*' : ''}`,
        String(e.dispatches),
        fmt(e.medianMs, 3),
        fmt(e.minMs, 3),
        fmt(e.gflops, 2),
        fmt(e.peakPct, 1),
        fmt(e.gbps, 2),
        String(e.iterations),
        fmt(e.firstRunMs / 1000, 1),
      ]),
      [false, false, true, true, true, true, true, true, true, true],
    ),
  );
  console.log(`${entries.length} measurements of ${selected.length} cases in ${totalS.toFixed(0)} s`);

  const out = args.out ? path.resolve(args.out) : path.join(REPO_ROOT, 'bench/results', `kernels-${slug(adapter)}.json`);
  const known = new Set(all.map((c) => c.name));
  let previous: ResultEntry[] = [];
  if (fs.existsSync(out)) {
    try {
      previous = (JSON.parse(fs.readFileSync(out, 'utf8')) as { results?: ResultEntry[] }).results ?? [];
    } catch {
      console.log(`(replacing unreadable ${out})`);
    }
  }
  // Older files have no variant: they were the engine's choice.
  for (const e of previous) e.variant ??= 'default';
  const key = (e: ResultEntry) => `${e.name}\u0000${e.variant}`;
  const fresh = new Set(entries.map(key));
  const freshCases = new Set(entries.map((e) => e.name));
  const order = (e: ResultEntry) => all.findIndex((c) => c.name === e.name);
  const merged = [
    // A case measured now replaces its old entries that did not name a variant.
    ...previous.filter((e) => known.has(e.name) && !fresh.has(key(e)) && !(freshCases.has(e.name) && e.variant === 'default')),
    ...entries,
  ].sort((a, b) => order(a) - order(b));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ adapter, updated: new Date().toISOString(), node: process.version, results: merged }, null, 1)}\n`);
  console.log(`results: ${path.relative(process.cwd(), out)}`);

  gpu.destroy();
  if (failures.length) {
    console.log(`\n${failures.length} measurement(s) failed:\n  ${failures.join('\n  ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
