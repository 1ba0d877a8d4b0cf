// Runs every kernel test case (tests/kernels/*.cases.ts) inside headless Chromium, whose WebGPU runs
// on SwiftShader (no shader-f16): the same cases the Node tests run on Dawn + lavapipe, on a second,
// independent WebGPU implementation. One vitest test per case; the page (kernel-page.ts) runs them
// all in one go in beforeAll and each test reports its case's outcome.
//
// BROWSER_KERNEL_FILTER=<substr> runs only the cases whose `<op>/<name>` contains it (the others are
// reported as skipped); the same filter is the page's `?filter=` when it is opened by hand
// (`npx tsx tests/browser/serve-page.ts` prints its URL; add ?filter=elementwise/).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelCase } from '../helpers/kernel-case.js';
import { launchChromium, type LaunchedChromium } from './launch-chromium.js';
import { caseId, type CaseResult, type KernelRun } from './kernel-results.js';
import { REPO_ROOT, servePage, type ServedPage } from './serve-page.js';

const CASES_DIR = path.join(REPO_ROOT, 'tests/kernels');
const FILTER = process.env.BROWSER_KERNEL_FILTER ?? '';
/** Whole page run; SwiftShader is ~3x slower than lavapipe on matmuls and compiles every pipeline afresh. */
const RUN_TIMEOUT_MS = Number(process.env.BROWSER_KERNEL_TIMEOUT_MS ?? 15 * 60_000);

// The case list is read in Node too, so vitest knows one test per case before the browser starts
// and a case the page never ran (a file its glob missed, a crash midway) fails by name.
interface ExpectedCase {
  id: string;
  op: string;
  importError?: string;
}
const expected: ExpectedCase[] = [];
for (const file of fs.readdirSync(CASES_DIR).filter((f) => f.endsWith('.cases.ts')).sort()) {
  const op = file.replace(/\.cases\.ts$/, '');
  try {
    const mod = (await import(pathToFileURL(path.join(CASES_DIR, file)).href)) as { cases?: KernelCase[] };
    if (!Array.isArray(mod.cases)) throw new Error(`${file} does not export \`cases: KernelCase[]\``);
    for (const c of mod.cases) expected.push({ id: caseId(op, c.name), op });
  } catch (e) {
    expected.push({ id: caseId(op, '(import)'), op, importError: (e as Error).message });
  }
}

let served: ServedPage | undefined;
let chromium: LaunchedChromium | undefined;
let run: KernelRun | undefined;
const results = new Map<string, CaseResult>();

/** Polls the page until it has finished, forwarding its progress; fails fast if the page crashes. */
async function waitForRun(page: Page): Promise<KernelRun> {
  let crashed: Error | null = null;
  page.on('error', (e) => (crashed = new Error(`Chromium page crashed: ${e.message}`)));
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  for (;;) {
    if (crashed) throw crashed;
    const state = await page.evaluate(() => window.__kernelRun && { ...window.__kernelRun });
    if (state && state.state !== 'running') return state;
    if (Date.now() > deadline) {
      const done = state?.results.length ?? 0;
      throw new Error(
        `kernel page did not finish within ${RUN_TIMEOUT_MS / 1000} s (${done} cases done; ` +
          'set BROWSER_KERNEL_FILTER to run a subset or BROWSER_KERNEL_TIMEOUT_MS to wait longer)',
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  chromium = await launchChromium();
  served = await servePage();
  const page = await chromium.browser.newPage();
  page.on('console', (msg) => {
    // Passing cases show up as vitest tests and Vite's client only announces its (unused) HMR
    // socket; everything else (failures, the adapter, warnings) is worth seeing in the CI log.
    const text = msg.text();
    if (!text.startsWith('PASS ') && !text.startsWith('[vite]')) console.log(`[chromium] ${text}`);
  });
  page.on('pageerror', (e) => console.log(`[chromium pageerror] ${(e as Error).message ?? e}`));
  const url = `${served.url}${FILTER ? `?filter=${encodeURIComponent(FILTER)}` : ''}`;
  await page.goto(url, { waitUntil: 'load' });
  run = await waitForRun(page);
  if (run.state === 'error') throw new Error(`kernel page failed before running cases: ${run.error}`);
  for (const r of run.results) results.set(r.id, r);
  console.log(
    `[chromium] adapter "${run.adapterName}" features ${JSON.stringify(run.features)}: ` +
      `${run.results.filter((r) => r.passed).length}/${run.results.length} cases passed in ${((run.totalMs ?? 0) / 1000).toFixed(1)} s; ` +
      `slowest: ${[...run.results].sort((a, b) => b.ms - a.ms).slice(0, 5).map((r) => `${r.id} ${(r.ms / 1000).toFixed(1)} s`).join(', ')}`,
  );
}, RUN_TIMEOUT_MS + 120_000);

afterAll(async () => {
  await chromium?.close();
  await served?.close();
});

describe('kernel cases in headless Chromium (WebGPU on SwiftShader)', () => {
  it('the page found the same cases as Node', () => {
    expect(expected.length, 'no tests/kernels/*.cases.ts found').toBeGreaterThan(0);
    const pageIds = new Set(run?.allIds ?? []);
    expect(expected.map((c) => c.id).filter((id) => !pageIds.has(id)), 'cases the page did not load').toEqual([]);
  });

  for (const c of expected) {
    const selected = !FILTER || c.id.includes(FILTER);
    it.skipIf(!selected)(c.id, () => {
      if (c.importError) throw new Error(`importing the case file in Node failed: ${c.importError}`);
      const r = results.get(c.id);
      if (!r) {
        const importFailure = results.get(caseId(c.op, '(import)'));
        throw new Error(`the page did not run ${c.id}${importFailure ? `: importing its file failed in Chromium: ${importFailure.error}` : ''}`);
      }
      if (!r.passed) throw new Error(`${c.id} failed in Chromium after ${r.ms.toFixed(0)} ms: ${r.error}`);
    });
  }
});
