// Kernel benchmark: times every case of bench/kernels/*.bench.ts at real SAM 2 shapes on the
// WebGPU adapter Node gets (Dawn: lavapipe here, a real GPU elsewhere) and reports median ms,
// GFLOPS (from the programs' `flops`) and GB/s (`bytes`), with the adapter in every result.
//
//   npm run bench:kernels                       512-px shapes (and size-independent ones)
//   npm run bench:kernels -- --full             also the 1024-px shapes
//   npm run bench:kernels -- --filter attention only cases whose name contains the text
//   options: --list (names only), --target-ms N (timed work per case, default 1000), --out FILE
//
// Results are merged by case name into bench/results/kernels-<adapter-slug>.json (or --out):
// entries of this run replace older ones, entries of cases that no longer exist are dropped, and
// every entry keeps its own date, so a filtered run updates only what it measured.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchCase } from '../lib/bench-case.js';
import { createBenchGpu } from '../lib/bench-gpu.js';
import { measure, type Measurement } from '../lib/measure.js';
import { fmt, formatTable, slug } from '../lib/stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');

interface Args {
  full: boolean;
  filter: string;
  list: boolean;
  targetMs: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { full: false, filter: '', list: false, targetMs: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--full') args.full = true;
    else if (flag === '--list') args.list = true;
    else if (flag === '--filter') args.filter = value();
    else if (flag === '--out') args.out = value();
    else if (flag === '--target-ms') {
      args.targetMs = Number(value());
      if (!(args.targetMs > 0)) throw new Error('--target-ms needs a positive number');
    } else throw new Error(`unknown argument ${argv[i]} (known: --full --filter S --list --target-ms N --out FILE)`);
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
  console.log(`adapter: ${adapter} (timing: ${gpu.features.timestamps ? 'GPU timestamps' : 'CPU clock'}), ${selected.length} cases, commit ${commit}`);

  const entries: ResultEntry[] = [];
  const failures: string[] = [];
  const started = performance.now();
  for (const c of selected) {
    let inst;
    try {
      inst = c.setup(gpu);
      const m = await measure(gpu, inst, { targetMs: args.targetMs, minIters: 3, maxIters: 200 });
      const e: ResultEntry = {
        name: c.name,
        op: c.op,
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
        gflops: m.flops !== undefined ? m.flops / (m.medianMs * 1e6) : undefined,
        gbps: m.bytes !== undefined ? m.bytes / (m.medianMs * 1e6) : undefined,
        kernels: m.kernels,
      };
      entries.push(e);
      console.log(
        `  ${c.name}: ${fmt(e.medianMs, 3)} ms` +
          (e.gflops !== undefined ? `, ${fmt(e.gflops, 2)} GFLOPS` : '') +
          (e.gbps !== undefined ? `, ${fmt(e.gbps, 2)} GB/s` : '') +
          ` (${e.iterations} runs, first run ${fmt(e.firstRunMs / 1000, 1)} s)`,
      );
    } catch (err) {
      const msg = (err as Error).message;
      failures.push(`${c.name}: ${msg}`);
      console.log(`  ${c.name}: ERROR ${msg}`);
    } finally {
      inst?.release();
      gpu.pool.trim();
    }
  }
  const totalS = (performance.now() - started) / 1000;

  console.log(`\nadapter: ${adapter}`);
  console.log(
    formatTable(
      ['case', 'disp', 'median ms', 'min ms', 'GFLOPS', 'GB/s', 'runs', 'first s'],
      entries.map((e) => [
        e.name,
        String(e.dispatches),
        fmt(e.medianMs, 3),
        fmt(e.minMs, 3),
        fmt(e.gflops, 2),
        fmt(e.gbps, 2),
        String(e.iterations),
        fmt(e.firstRunMs / 1000, 1),
      ]),
      [false, true, true, true, true, true, true, true],
    ),
  );
  console.log(`${entries.length} cases in ${totalS.toFixed(0)} s`);

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
  const fresh = new Set(entries.map((e) => e.name));
  const merged = [...previous.filter((e) => known.has(e.name) && !fresh.has(e.name)), ...entries].sort(
    (a, b) => all.findIndex((c) => c.name === a.name) - all.findIndex((c) => c.name === b.name),
  );
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify({ adapter, updated: new Date().toISOString(), node: process.version, results: merged }, null, 1)}\n`);
  console.log(`results: ${path.relative(process.cwd(), out)}`);

  gpu.destroy();
  if (failures.length) {
    console.log(`\n${failures.length} case(s) failed:\n  ${failures.join('\n  ')}`);
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
