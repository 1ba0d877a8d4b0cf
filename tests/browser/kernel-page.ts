// Browser page that runs every kernel test case (tests/kernels/*.cases.ts) on navigator.gpu, one
// after another on one shared Gpu, and publishes the results on `window.__kernelRun` (polled by
// kernels-in-chromium.test.ts) and as console lines. `?filter=<substr>` keeps the cases whose
// `<op>/<name>` id contains the substring (case-sensitive), e.g. `?filter=elementwise/`.
import { getTestGpu } from '../helpers/gpu.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { caseId, type CaseResult, type KernelRun } from './kernel-results.js';

// Lazy glob: a case file that fails to import fails its own op, not the whole page.
const caseModules = import.meta.glob<{ cases: KernelCase[] }>('../kernels/*.cases.ts');

const logEl = document.getElementById('log');
function log(line: string): void {
  console.log(line);
  if (logEl) logEl.textContent += `${line}\n`;
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.stack && !e.stack.includes(e.message) ? `${e.message}\n${e.stack}` : (e.stack ?? e.message);
  return String(e);
}

function opOf(path: string): string {
  return path.replace(/^.*\//, '').replace(/\.cases\.ts$/, '');
}

async function main(run: KernelRun): Promise<void> {
  const start = performance.now();
  const loaded: Array<{ op: string; cases: KernelCase[] }> = [];
  for (const [path, load] of Object.entries(caseModules).sort(([a], [b]) => a.localeCompare(b))) {
    const op = opOf(path);
    try {
      const mod = await load();
      if (!Array.isArray(mod.cases)) throw new Error(`${path} does not export \`cases: KernelCase[]\``);
      loaded.push({ op, cases: mod.cases });
      for (const c of mod.cases) run.allIds.push(caseId(op, c.name));
    } catch (e) {
      // Reported as a failed pseudo-case so the driver names the broken file.
      const id = caseId(op, '(import)');
      run.allIds.push(id);
      run.results.push({ id, op, name: '(import)', passed: false, error: describeError(e), ms: 0 });
      log(`FAIL ${id}: ${describeError(e)}`);
    }
  }

  const gpu = await getTestGpu();
  run.adapterName = gpu.adapterName;
  run.features = { ...gpu.features };
  log(`adapter: ${gpu.adapterName} features: ${JSON.stringify(gpu.features)}`);

  for (const { op, cases } of loaded) {
    for (const c of cases) {
      const id = caseId(op, c.name);
      if (run.filter && !id.includes(run.filter)) continue;
      const t0 = performance.now();
      const result: CaseResult = { id, op, name: c.name, passed: true, ms: 0 };
      try {
        await c.run(gpu);
        // A case that forgot to read back may leave errors queued: surface them here.
        await gpu.sync();
      } catch (e) {
        result.passed = false;
        result.error = describeError(e);
      }
      result.ms = performance.now() - t0;
      run.results.push(result);
      log(`${result.passed ? 'PASS' : 'FAIL'} ${id} (${result.ms.toFixed(0)} ms)${result.error ? `: ${result.error}` : ''}`);
    }
  }
  run.totalMs = performance.now() - start;
}

const run: KernelRun = {
  state: 'running',
  filter: new URLSearchParams(location.search).get('filter') ?? '',
  allIds: [],
  results: [],
};
window.__kernelRun = run;
main(run).then(
  () => {
    run.state = 'done';
    log(`done: ${run.results.filter((r) => r.passed).length}/${run.results.length} passed in ${run.totalMs?.toFixed(0)} ms`);
  },
  (e) => {
    run.error = describeError(e);
    run.state = 'error';
    log(`ERROR ${run.error}`);
  },
);
