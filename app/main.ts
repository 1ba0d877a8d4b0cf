// The page: loading (file inputs, drag and drop, cached weights), the viewer (niivue: three planes
// and a 3-D render of the masks, crosshair, zoom / pan, radiological or neurological convention),
// prompting with the mouse on the prompt plane, propagation with progress, undo and export. All
// model work happens in the engine worker (engine-worker.ts); this thread draws and keeps the label
// volume. `window.__sam2app` exposes the state and a few helpers for the end-to-end test
// (tests/app/app.e2e.test.ts).
import { computeMapping, sliceShape, type Axis, type CtPresetName, type IntensityMapping } from '../src/volume/index.js';
import { EngineClient, type EngineError } from './engine-client.js';
import { classifyInput, filesFromDrop, filesFromInput, type PickedFile } from './file-drop.js';
import { drawMarkers } from './markers.js';
import type { Direction, GpuFailureKind, GpuInfo, ModelInfo, ProgressEvent, VolumeInfo } from './protocol.js';
import { Segmentation } from './segmentation.js';
import { clampVoxel, slicePointToVoxel, voxelToSlicePoint, type Vec3 } from './slice-points.js';
import { VolumeViewer, type Layout, type Rgb } from './viewer.js';
import { forgetWeights, loadCachedWeights, saveWeights, type CacheBackend } from './weights-cache.js';

// ---- DOM ------------------------------------------------------------------------------------

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`index.html lacks #${id}`);
  return e as T;
}

const ui = {
  banner: el('banner'),
  status: el('status'),
  adapter: el('adapter'),
  weightsStatus: el('weights-status'),
  precision: el('precision') as HTMLInputElement,
  forgetWeights: el<HTMLButtonElement>('forget-weights'),
  volumeInput: el<HTMLInputElement>('volume-input'),
  dicomInput: el<HTMLInputElement>('dicom-input'),
  weightsInput: el<HTMLInputElement>('weights-input'),
  stage: el('stage'),
  viewerCanvas: el<HTMLCanvasElement>('nv-canvas'),
  marks: el<HTMLCanvasElement>('marks'),
  dropHint: el('drop-hint'),
  dropOverlay: el('drop-overlay'),
  axisButtons: el('axis-buttons'),
  layoutButtons: el('layout-buttons'),
  convention: el<HTMLButtonElement>('convention'),
  zoomIn: el<HTMLButtonElement>('zoom-in'),
  zoomOut: el<HTMLButtonElement>('zoom-out'),
  zoomReset: el<HTMLButtonElement>('zoom-reset'),
  windowSelect: el<HTMLSelectElement>('window-select'),
  wlReadout: el('wl-readout'),
  slider: el<HTMLInputElement>('slice-slider'),
  sliceReadout: el('slice-readout'),
  objectList: el('object-list'),
  addObject: el<HTMLButtonElement>('add-object'),
  undo: el<HTMLButtonElement>('undo'),
  resetPrompts: el<HTMLButtonElement>('reset-prompts'),
  promptNote: el('prompt-note'),
  direction: el<HTMLSelectElement>('direction'),
  propagate: el<HTMLButtonElement>('propagate'),
  cancel: el<HTMLButtonElement>('cancel'),
  progress: el<HTMLProgressElement>('progress'),
  progressText: el('progress-text'),
  exportButton: el<HTMLButtonElement>('export'),
  clearMasks: el<HTMLButtonElement>('clear-masks'),
};

// ---- state ----------------------------------------------------------------------------------

type WindowChoice = 'mr' | 'minmax' | CtPresetName | 'custom';

interface LoadedModel extends ModelInfo {
  name: string;
  source: 'file' | 'cache';
  cache: CacheBackend | null;
}

interface Propagation {
  running: boolean;
  done: number;
  total: number;
  slicesPerSecond: number;
  seconds: number;
  cancelled: boolean;
  direction: Direction | null;
}

const state = {
  gpu: null as GpuInfo | null,
  gpuError: null as string | null,
  model: null as LoadedModel | null,
  volume: null as VolumeInfo | null,
  seg: null as Segmentation | null,
  /** The prompt plane: prompts go to slices of this axis (framed in the viewer). */
  viewAxis: 'axial' as Axis,
  /** The crosshair's voxel: each plane shows the slice through it. */
  cursor: [0, 0, 0] as [number, number, number],
  /** The viewer could not start (no WebGL2): why. */
  viewerError: null as string | null,
  windowChoice: 'mr' as WindowChoice,
  custom: { width: 1, level: 0 },
  mapping: null as IntensityMapping | null,
  /** Window the current engine session feeds the model (fixed while it has prompts). */
  sessionMapping: null as IntensityMapping | null,
  busy: [] as string[],
  propagation: { running: false, done: 0, total: 0, slicesPerSecond: 0, seconds: 0, cancelled: false, direction: null } as Propagation,
  /** Percent complete at every progress event of the last propagation (the test checks it reaches 100). */
  progressLog: [] as number[],
  lastExport: null as { name: string; bytes: number } | null,
  errors: [] as string[],
  /** Set while the engine waits for the user to resume on a new GPU device. */
  gpuFailure: null as { kind: GpuFailureKind; message: string } | null,
  objectCounts: [] as number[],
};

const engine = new EngineClient();
/** niivue on the stage's canvas; null until it started (or when WebGL2 is missing). */
let viewer: VolumeViewer | null = null;
/** The label volume changed since the viewer last uploaded it. */
let labelsDirty = false;
/** When the viewer last uploaded the labels (performance.now()). */
let labelsUploadedAt = 0;
/**
 * While a propagation runs, the viewer re-uploads and redraws the masks at most every so often:
 * at least a second, and so that drawing takes at most a fifth of the time (on a software GPU a
 * frame with the 3-D render takes about a second from the model, which shares the GPU process).
 */
const labelRefreshMs = () => Math.max(1000, 5 * (viewer?.frameMs ?? 0));
let labelTimer: ReturnType<typeof setTimeout> | null = null;

// ---- status, errors, busy -------------------------------------------------------------------

function setStatus(text: string, kind: 'info' | 'error' | 'busy' = 'info'): void {
  ui.status.textContent = text;
  ui.status.className = kind === 'info' ? '' : kind;
}

function showBanner(text: string | null, kind: 'error' | 'info' = 'error'): void {
  ui.banner.hidden = !text;
  ui.banner.textContent = text ?? '';
  ui.banner.className = kind === 'info' ? 'info' : '';
}

function reportError(context: string, e: unknown): void {
  const msg = `${context}: ${e instanceof Error ? e.message : String(e)}`;
  console.error(msg);
  state.errors.push(msg);
  setStatus(msg, 'error');
  const gpu = (e as EngineError | undefined)?.gpu;
  if (gpu) showGpuFailure(gpu, e instanceof Error ? e.message : String(e));
}

/**
 * A GPU failure (device lost, out of memory) in words the user can act on, with the two ways out:
 * resume on a new GPU device (finished slices and prompts are kept) or reload the page.
 */
function showGpuFailure(kind: GpuFailureKind, message: string): void {
  state.gpuFailure = { kind, message };
  const what =
    kind === 'lost'
      ? 'The GPU device was lost (the driver reset, the GPU went to sleep or was removed).'
      : kind === 'out-of-memory'
        ? 'The GPU ran out of memory. Close other tabs or programs that use the GPU, then resume.'
        : 'The GPU reported an error; the current step was stopped.';
  ui.banner.replaceChildren(
    document.createTextNode(`${what}\n${message}\nThe masks already computed are kept; no wrong mask was shown. `),
    button('Resume on a new GPU device', 'gpu-resume', () => void resumeAfterGpuFailure()),
    document.createTextNode(' '),
    button('Reload the page', 'gpu-reload', () => location.reload()),
  );
  ui.banner.className = '';
  ui.banner.hidden = false;
  updateControls();
}

function button(text: string, testId: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = text;
  b.dataset.testid = testId;
  b.addEventListener('click', onClick);
  return b;
}

/** Restarts the engine on a new device and continues an interrupted propagation, if any. */
function resumeAfterGpuFailure(): Promise<void> {
  return enqueue('Resume on a new GPU device', () =>
    busy('Starting a new GPU device', async () => {
      const r = await engine.request({ type: 'recoverGpu' });
      state.gpuFailure = null;
      showBanner(null);
      ui.adapter.textContent = `GPU: ${r.adapterName}`;
      setStatus(r.resumable ? 'GPU restarted: resuming the propagation' : 'GPU restarted: ready');
      if (r.resumable) await runPropagation(state.propagation.direction ?? 'both', null);
    }),
  );
}

async function busy<T>(label: string, fn: () => Promise<T>): Promise<T> {
  state.busy.push(label);
  setStatus(`${label}…`, 'busy');
  updateControls();
  try {
    return await fn();
  } finally {
    state.busy.splice(state.busy.indexOf(label), 1);
    if (state.busy.length) setStatus(`${state.busy[state.busy.length - 1]}…`, 'busy');
    else if (ui.status.className === 'busy') setStatus('Ready');
    updateControls();
  }
}

/** Prompt-related actions run one after another: each needs the previous one's prompt state. */
let actionChain: Promise<unknown> = Promise.resolve();
function enqueue(label: string, fn: () => Promise<void>): Promise<void> {
  const run = actionChain.then(() => fn().catch((e) => reportError(label, e)));
  actionChain = run;
  return run;
}

// ---- geometry helpers -----------------------------------------------------------------------

function sliceIndexOf(axis: Axis): number {
  const [i, j, k] = state.cursor;
  return axis === 'axial' ? k : axis === 'coronal' ? j : i;
}

function numSlices(axis: Axis): number {
  return state.volume ? sliceShape(state.volume.dims, axis).count : 0;
}

function setSlice(index: number): void {
  const v = state.volume;
  if (!v) return;
  const n = numSlices(state.viewAxis);
  const t = Math.max(0, Math.min(n - 1, Math.round(index)));
  const c = state.cursor;
  if (state.viewAxis === 'axial') c[2] = t;
  else if (state.viewAxis === 'coronal') c[1] = t;
  else c[0] = t;
  scheduleRender();
}

/** Moves the crosshair to a clicked point of the prompt plane (the other planes follow). */
function moveCursorInPlane(x: number, y: number): void {
  const v = state.volume;
  if (!v) return;
  state.cursor = clampVoxel(v.dims, slicePointToVoxel(v.dims, state.viewAxis, sliceIndexOf(state.viewAxis), x, y));
  scheduleRender();
}

/** The prompt plane's slice pixel (continuous) under a client point, or null elsewhere. */
function slicePointAt(clientX: number, clientY: number): [number, number] | null {
  const v = state.volume;
  const hit = viewer?.clientToVoxel(clientX, clientY);
  if (!v || !hit || hit.axis !== state.viewAxis) return null;
  const { x, y } = voxelToSlicePoint(v.dims, hit.axis, hit.voxel);
  const { width, height } = sliceShape(v.dims, hit.axis);
  return [Math.min(Math.max(x, 0), width), Math.min(Math.max(y, 0), height)];
}

/** Client position of a slice pixel of the prompt plane (on the slice shown), or null when hidden. */
function sliceToClient(x: number, y: number): [number, number] | null {
  const v = state.volume;
  if (!v || !viewer) return null;
  return viewer.voxelToClient(state.viewAxis, slicePointToVoxel(v.dims, state.viewAxis, sliceIndexOf(state.viewAxis), x, y));
}

/** The native slice direction: the axis with the coarsest spacing (ties: axial). */
function defaultAxis(v: VolumeInfo): Axis {
  const [sx, sy, sz] = v.spacing;
  if (sy > sz * 1.01 && sy >= sx) return 'coronal';
  if (sx > sz * 1.01 && sx > sy) return 'sagittal';
  return 'axial';
}

// ---- windowing ------------------------------------------------------------------------------

function mappingFor(choice: WindowChoice, v: VolumeInfo): IntensityMapping {
  // The CT branch of computeMapping only needs the volume's min and max.
  const extremes = [v.min, v.max];
  if (choice === 'mr') return v.percentileMapping ?? computeMapping(extremes, { kind: 'minmax' });
  if (choice === 'minmax') return computeMapping(extremes, { kind: 'minmax' });
  if (choice === 'custom') return computeMapping(extremes, { kind: 'ct', width: state.custom.width, level: state.custom.level });
  return computeMapping(extremes, { kind: 'ct', preset: choice });
}

function widthLevel(m: IntensityMapping): { width: number; level: number } {
  return { width: m.upper - m.lower, level: (m.upper + m.lower) / 2 };
}

function setWindow(choice: WindowChoice): void {
  const v = state.volume;
  if (!v) return;
  state.windowChoice = choice;
  state.mapping = mappingFor(choice, v);
  ui.windowSelect.value = choice;
  const { width, level } = widthLevel(state.mapping);
  ui.wlReadout.textContent = `W ${fmt(width)}  L ${fmt(level)}`;
  viewer?.setWindow(state.mapping.lower, state.mapping.upper);
  updatePromptNote();
  scheduleRender();
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3);
}

const sameMapping = (a: IntensityMapping | null, b: IntensityMapping | null) =>
  !!a && !!b && a.lower === b.lower && a.upper === b.upper && a.min === b.min && a.max === b.max && a.keepZero === b.keepZero;

function updatePromptNote(): void {
  const seg = state.seg;
  const stale = !!seg && seg.promptCount > 0 && !sameMapping(state.sessionMapping, state.mapping);
  ui.promptNote.hidden = !stale;
  if (stale) ui.promptNote.textContent = 'The model keeps the window its prompts were made with; Reset prompts to segment with the new window.';
}

// ---- rendering ------------------------------------------------------------------------------

let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

let dragBox: [number, number, number, number] | undefined;

function colorMap(): Map<number, Rgb> {
  return new Map((state.seg?.objects ?? []).map((o) => [o.id, o.color]));
}

/** The page's marks over the viewer: prompt-plane frame, prompts on the slice shown, drag box. */
function drawMarks(): void {
  const v = state.volume;
  const seg = state.seg;
  if (!v || !seg || !viewer || viewer.layout === 'render') {
    drawMarkers(ui.marks, null);
    return;
  }
  const axis = state.viewAxis;
  const box = ui.marks.getBoundingClientRect();
  drawMarkers(ui.marks, {
    project: (x, y) => {
      const c = sliceToClient(x, y);
      return c && [c[0] - box.left, c[1] - box.top];
    },
    frame: viewer.layout === 'multiplanar' ? viewer.tileRect(axis) : null,
    prompts: seg.sessionAxis === axis ? seg.promptsOn(sliceIndexOf(axis)) : [],
    colors: colorMap(),
    activeObjId: seg.activeId,
    dragBox,
  });
}

function render(): void {
  const v = state.volume;
  const seg = state.seg;
  ui.dropHint.hidden = !!v;
  const axis = state.viewAxis;
  for (const b of ui.axisButtons.querySelectorAll<HTMLButtonElement>('button')) b.classList.toggle('active', b.dataset.axis === axis);
  for (const b of ui.layoutButtons.querySelectorAll<HTMLButtonElement>('button')) b.classList.toggle('active', b.dataset.layout === viewer?.layout);
  ui.convention.textContent = viewer?.radiological === false ? 'Neurological' : 'Radiological';
  ui.zoomReset.textContent = `${Math.round(100 * (viewer?.zoom ?? 1))} %`;
  if (!v || !seg || !state.mapping) return;
  if (viewer?.hasVolume) {
    // niivue redraws only for what changed in it (each frame costs on a software GPU); the
    // marks (prompts, frame) are on their own canvas.
    let drawn = false;
    const wait = labelsUploadedAt + labelRefreshMs() - performance.now();
    if (labelsDirty && state.propagation.running && wait > 0) {
      labelTimer ??= setTimeout(() => {
        labelTimer = null;
        scheduleRender();
      }, wait);
    } else if (labelsDirty) {
      viewer.refreshLabels();
      labelsDirty = false;
      labelsUploadedAt = performance.now();
      drawn = true;
    }
    if (viewer.cursor.some((c, a) => c !== state.cursor[a])) {
      viewer.setCursor(state.cursor);
      drawn = true;
    }
    if (!drawn) drawMarks();
  }
  const index = sliceIndexOf(axis);
  const n = numSlices(axis);
  ui.slider.max = String(n - 1);
  ui.slider.value = String(index);
  const prompted = seg.sessionAxis === axis && seg.promptedSlices.includes(index) ? '  · prompted' : '';
  ui.sliceReadout.textContent = `${axis} ${index + 1} / ${n}${prompted}`;
}

function renderObjects(): void {
  const seg = state.seg;
  ui.objectList.replaceChildren();
  if (!seg) return;
  for (const o of seg.objects) {
    const li = document.createElement('li');
    li.dataset.testid = `object-${o.id}`;
    li.classList.toggle('active', o.id === seg.activeId);
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = `rgb(${o.color.join(',')})`;
    const name = document.createElement('span');
    name.textContent = `Object ${o.id}`;
    const count = document.createElement('span');
    count.className = 'count';
    const voxels = state.objectCounts[o.id] ?? 0;
    count.textContent = voxels ? `${voxels.toLocaleString('en')} vox` : '';
    li.append(swatch, name, count);
    li.onclick = () => {
      seg.activeId = o.id;
      renderObjects();
      scheduleRender();
    };
    ui.objectList.append(li);
  }
}

function refreshCounts(): void {
  state.objectCounts = state.seg?.voxelCounts() ?? [];
  labelsDirty = true;
  renderObjects();
}

function updateControls(): void {
  const ready = !!state.model && !!state.volume && !!state.gpu && !state.gpuFailure;
  const running = state.propagation.running;
  const prompts = state.seg?.promptCount ?? 0;
  ui.propagate.disabled = !ready || running || prompts === 0;
  ui.cancel.disabled = !running;
  ui.undo.disabled = !ready || running || prompts === 0;
  ui.resetPrompts.disabled = !ready || running || prompts === 0;
  ui.exportButton.disabled = !state.volume || running;
  ui.clearMasks.disabled = !state.volume || running;
  ui.addObject.disabled = !state.volume;
  ui.forgetWeights.hidden = !state.model?.cache;
}

function updateProgress(): void {
  const p = state.propagation;
  ui.progress.max = Math.max(1, p.total);
  ui.progress.value = p.done;
  if (p.total === 0 && !p.running) {
    ui.progressText.textContent = '\u00a0';
    return;
  }
  const pct = p.total ? Math.round((100 * p.done) / p.total) : 0;
  const rate = p.slicesPerSecond ? ` · ${p.slicesPerSecond.toFixed(2)} slices/s` : '';
  const tail = p.running ? '' : p.cancelled ? ' · cancelled' : ` · done in ${p.seconds.toFixed(1)} s`;
  ui.progressText.textContent = `${p.done} / ${p.total} slices (${pct} %)${rate}${tail}`;
}

// ---- loading --------------------------------------------------------------------------------

async function openVolume(files: File[], name: string): Promise<void> {
  await busy(`Reading ${name}`, async () => {
    const info = await engine.request({ type: 'openVolume', files, name });
    state.volume = info;
    state.seg = new Segmentation(info.dims);
    state.sessionMapping = null;
    state.viewAxis = defaultAxis(info);
    state.cursor = info.dims.map((d) => Math.floor(d / 2)) as [number, number, number];
    if (viewer) {
      viewer.setActiveAxis(state.viewAxis);
      const m = mappingFor(info.looksLikeCt ? 'abdomen' : info.percentileMapping ? 'mr' : 'minmax', info);
      await viewer.setVolume({ dims: info.dims, spacing: info.spacing, data: info.data }, state.seg.labels, [m.lower, m.upper], colorMap());
      viewer.setCursor(state.cursor);
    }
    state.propagation = { running: false, done: 0, total: 0, slicesPerSecond: 0, seconds: 0, cancelled: false, direction: null };
    state.progressLog = [];
    updateProgress();
    setWindow(info.looksLikeCt ? 'abdomen' : info.percentileMapping ? 'mr' : 'minmax');
    refreshCounts();
    const d = info.dims.join(' × ');
    const sp = info.spacing.map((s) => s.toFixed(2)).join(' × ');
    setStatus(`${name}: ${d} voxels, ${sp} mm${info.modality ? `, ${info.modality}` : ''}`);
    showBanner(info.warnings.length ? info.warnings.join('\n') : null, 'info');
    scheduleRender();
  });
}

async function loadWeightsBytes(name: string, bytes: Uint8Array, source: 'file' | 'cache', cache: CacheBackend | null): Promise<void> {
  await busy(`Loading weights ${name}`, async () => {
    // The worker gets a copy; this thread keeps the bytes only until they are cached.
    const storing = source === 'file' ? saveWeights(name, bytes) : Promise.resolve(cache);
    let info: ModelInfo;
    try {
      info = await engine.request({ type: 'loadWeights', name, bytes, precision: ui.precision.value.trim() || undefined });
    } catch (e) {
      state.model = null;
      ui.weightsStatus.textContent = 'no weights';
      if (source === 'file') await storing.then(() => forgetWeights());
      else await forgetWeights();
      throw e;
    }
    state.model = { ...info, name, source, cache: null };
    state.seg?.resetSession(null);
    state.sessionMapping = null;
    ui.weightsStatus.textContent = `${name}: ${info.arch} (SAM ${info.version}, ${info.imageSize} px, ${info.precision}, ${(info.weightsBytes / 1e6).toFixed(1)} MB on the GPU)`;
    updateControls();
    const where = await storing;
    state.model.cache = where;
    ui.weightsStatus.textContent += where ? (source === 'cache' ? ' · from browser cache' : ' · cached in browser') : ' · not cached';
    setStatus(`Weights ready (${info.arch}, ${info.imageSize} px)`);
  });
}

async function handlePicked(picked: PickedFile[]): Promise<void> {
  const input = classifyInput(picked);
  if (!input.weights && !input.volume) {
    reportError('Open', new Error(`nothing to open among ${picked.length} file(s): expected .nii/.nii.gz, a DICOM folder or .safetensors weights`));
    return;
  }
  if (input.weights) {
    const f = input.weights;
    await loadWeightsBytes(f.name, new Uint8Array(await f.arrayBuffer()), 'file', null).catch((e) => reportError(`Loading weights ${f.name}`, e));
  }
  if (input.volume) {
    const { files, name } = input.volume;
    await openVolume(files, name).catch((e) => reportError(`Opening ${name}`, e));
  }
  updateControls();
}

// ---- prompting ------------------------------------------------------------------------------

/**
 * Makes sure the engine has a session on `axis`, started with the current window unless the
 * session already has prompts on that axis. Returns a note for the status line when prompts of
 * another orientation were dropped.
 */
async function ensureSession(axis: Axis): Promise<string> {
  const seg = state.seg!;
  const sameAxis = seg.sessionAxis === axis;
  const windowChanged = !sameMapping(state.sessionMapping, state.mapping);
  if (sameAxis && (!windowChanged || seg.promptCount > 0)) return '';
  const note = !sameAxis && seg.promptCount > 0 ? ` (new ${axis} session: the ${seg.sessionAxis} prompts were dropped, their masks kept)` : '';
  await engine.request({ type: 'startSession', axis, mapping: state.mapping! });
  seg.resetSession(axis);
  state.sessionMapping = state.mapping;
  updatePromptNote();
  return note;
}

function addPrompt(add: { point: [number, number]; label: number } | { box: [number, number, number, number] }): Promise<void> {
  if (!canPrompt()) return Promise.resolve();
  const axis = state.viewAxis;
  const slice = sliceIndexOf(axis);
  return enqueue('Prompt', () =>
    busy('Segmenting', async () => {
      const seg = state.seg!;
      const note = await ensureSession(axis);
      const call = seg.nextCall(slice, seg.activeId, add);
      const before = seg.labelSlice(axis, slice);
      const result = await engine.request({ type: 'prompt', call });
      seg.record(call, before);
      seg.applyMasks(axis, result);
      refreshCounts();
      scheduleRender();
      setStatus(`Object ${call.objId}, slice ${slice + 1}: ${call.points.length} point(s)${call.box ? ' + box' : ''}${note}`);
    }),
  );
}

function canPrompt(): boolean {
  if (!state.gpu) {
    setStatus(state.gpuError ?? 'WebGPU is not ready', 'error');
    return false;
  }
  if (!state.model) {
    setStatus('Load SAM 2 weights (.safetensors) first', 'error');
    return false;
  }
  if (!state.volume) return false;
  if (state.propagation.running) {
    setStatus('Propagation is running: wait for it or cancel it first', 'error');
    return false;
  }
  return true;
}

function undo(): Promise<void> {
  if (!state.seg || state.seg.promptCount === 0 || state.propagation.running) return Promise.resolve();
  return enqueue('Undo', () =>
    busy('Undoing', async () => {
      const seg = state.seg!;
      const plan = seg.undo();
      if (!plan) return;
      // The engine forgets every prompt and replays the remaining ones in order.
      const results = await engine.request({ type: 'replay', calls: plan.remaining });
      // Only the undone object's slice changes on screen; other slices keep what they show.
      const last = results.filter((r, n) => r.slice === plan.undone.slice && plan.remaining[n].objId === plan.undone.objId).pop();
      if (last) seg.applyMasks(plan.axis, last);
      refreshCounts();
      scheduleRender();
      updateControls();
      setStatus(`Undid the last prompt on slice ${plan.undone.slice + 1}${seg.promptCount ? '; propagate again to update other slices' : ''}`);
    }),
  );
}

function resetPrompts(): Promise<void> {
  return enqueue('Reset prompts', () =>
    busy('Resetting prompts', async () => {
      await engine.request({ type: 'resetSession' });
      // The next prompt starts a fresh session, with the window shown at that time.
      state.seg?.resetSession(null);
      state.sessionMapping = null;
      updatePromptNote();
      scheduleRender();
      setStatus('Prompts cleared (masks kept)');
    }),
  );
}

// ---- propagation ----------------------------------------------------------------------------

function propagate(): Promise<void> {
  if (state.propagation.running) return Promise.resolve();
  const direction = ui.direction.value as Direction;
  // Decided once the prompts queued before this click are in.
  return enqueue('Propagate', async () => {
    const seg = state.seg;
    if (!seg || !seg.sessionAxis || seg.promptCount === 0) return;
    const current = sliceIndexOf(seg.sessionAxis);
    const prompted = seg.promptedSlices;
    await runPropagation(direction, prompted.includes(current) ? current : prompted[0]);
  });
}

/**
 * Propagates from `from`, or (from = null) resumes the propagation a GPU failure stopped, keeping
 * its progress; masks arrive slice by slice.
 */
async function runPropagation(direction: Direction, from: number | null): Promise<void> {
  const seg = state.seg;
  if (!seg || !seg.sessionAxis) return;
  const axis = seg.sessionAxis;
  const resuming = from === null;
  const p: Propagation = resuming
    ? { ...state.propagation, running: true }
    : { running: true, done: 0, total: 0, slicesPerSecond: 0, seconds: 0, cancelled: false, direction };
  state.propagation = p;
  if (!resuming) state.progressLog = [];
  updateControls();
  updateProgress();
  setStatus(resuming ? 'Resuming the propagation…' : `Propagating ${direction === 'both' ? 'both ways' : direction} from slice ${from + 1}…`, 'busy');
  try {
    const onProgress = (e: ProgressEvent) => {
      seg.applyMasks(axis, e.result);
      p.done = e.done;
      p.total = e.total;
      p.slicesPerSecond = e.slicesPerSecond;
      state.progressLog.push((100 * e.done) / e.total);
      updateProgress();
      scheduleRender();
    };
    const summary = resuming
      ? await engine.request({ type: 'resumePropagation' }, { onProgress })
      : await engine.request({ type: 'propagate', from, direction }, { onProgress });
    Object.assign(p, { done: summary.done, total: summary.total, seconds: summary.seconds, cancelled: summary.cancelled });
    if (summary.seconds > 0) p.slicesPerSecond = summary.done / summary.seconds;
    setStatus(
      summary.total === 0
        ? 'Nothing to propagate in that direction'
        : `${summary.cancelled ? 'Cancelled after' : 'Propagated'} ${summary.done} / ${summary.total} slices in ${summary.seconds.toFixed(1)} s`,
    );
  } finally {
    p.running = false;
    refreshCounts();
    updateProgress();
    updateControls();
    scheduleRender();
  }
}

function cancelPropagation(): void {
  if (!state.propagation.running) return;
  setStatus('Cancelling after the current slice…', 'busy');
  void engine.request({ type: 'cancel' });
}

// ---- export ---------------------------------------------------------------------------------

async function exportMask(): Promise<void> {
  const seg = state.seg;
  if (!seg) return;
  await busy('Writing mask', async () => {
    const labels = seg.labels.slice();
    const { bytes, name } = await engine.request({ type: 'exportMask', labels }, { transfer: [labels.buffer] });
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/gzip' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    state.lastExport = { name, bytes: bytes.byteLength };
    setStatus(`Exported ${name} (${(bytes.byteLength / 1024).toFixed(0)} KiB, label = object id, on the source grid)`);
  });
}

// ---- mouse, wheel, keys ---------------------------------------------------------------------

const DRAG_THRESHOLD_PX = 4;
/** A press the app handles (niivue handles the others: crosshair, pan, rotation, slice wheel). */
let pointer: {
  id: number;
  mode: 'prompt' | 'window';
  x0: number;
  y0: number;
  /** Slice pixel pressed on the prompt plane (null elsewhere). */
  start: [number, number] | null;
  moved: boolean;
  shift: boolean;
  wl0: { width: number; level: number };
} | null = null;

// Capture phase on the stage: runs before niivue's own mouse listeners on its canvas, so the
// gesture's roles are set (prepareGesture) before niivue reads them.
ui.stage.addEventListener(
  'pointerdown',
  (e) => {
    if (!viewer || !state.volume || !state.mapping) return;
    const kind = viewer.tileKind(e.clientX, e.clientY);
    viewer.prepareGesture(kind);
    const windowMode = e.button === 2 && kind !== 'render' && kind !== 'none';
    const promptMode = e.button === 0 && kind === 'prompt' && !(e.ctrlKey || e.metaKey);
    if (!windowMode && !promptMode) return;
    pointer = {
      id: e.pointerId,
      mode: windowMode ? 'window' : 'prompt',
      x0: e.clientX,
      y0: e.clientY,
      start: kind === 'prompt' ? slicePointAt(e.clientX, e.clientY) : null,
      moved: false,
      shift: e.shiftKey,
      wl0: widthLevel(state.mapping),
    };
  },
  { capture: true },
);

window.addEventListener('pointermove', (e) => {
  if (!pointer || e.pointerId !== pointer.id) return;
  const dx = e.clientX - pointer.x0;
  const dy = e.clientY - pointer.y0;
  if (Math.hypot(dx, dy) >= DRAG_THRESHOLD_PX) pointer.moved = true;
  if (!pointer.moved) return;
  if (pointer.mode === 'window' && state.volume) {
    // Horizontal: width, vertical: level; one pixel is 1/500 of the intensity range.
    const step = Math.max(1e-6, (state.volume.max - state.volume.min) / 500);
    state.custom = { width: Math.max(step, pointer.wl0.width + dx * step), level: pointer.wl0.level - dy * step };
    setWindow('custom');
  } else if (pointer.start) {
    const end = slicePointAt(e.clientX, e.clientY);
    if (!end) return;
    const [x0, y0] = pointer.start;
    dragBox = [Math.min(x0, end[0]), Math.min(y0, end[1]), Math.max(x0, end[0]), Math.max(y0, end[1])];
    drawMarks();
  }
});

window.addEventListener('pointerup', (e) => {
  if (!pointer || e.pointerId !== pointer.id) return;
  const p = pointer;
  pointer = null;
  const box = dragBox;
  dragBox = undefined;
  if (p.mode === 'window') {
    // A right click that did not drag is a negative point.
    if (!p.moved && p.start) {
      moveCursorInPlane(...p.start);
      void addPrompt({ point: p.start, label: 0 });
    }
    return;
  }
  if (!p.start) return;
  if (p.moved) {
    if (box && box[2] - box[0] >= 1 && box[3] - box[1] >= 1) void addPrompt({ box });
    drawMarks();
    return;
  }
  moveCursorInPlane(...p.start);
  void addPrompt({ point: p.start, label: p.shift ? 0 : 1 });
});

ui.stage.addEventListener('contextmenu', (e) => e.preventDefault());

// Double-click a plane to prompt in it (niivue's own double-click would reset the window).
ui.stage.addEventListener(
  'dblclick',
  (e) => {
    e.stopPropagation();
    const tile = viewer?.tileAt(e.clientX, e.clientY);
    if (tile && tile !== 'render' && tile !== state.viewAxis) setAxis(tile);
  },
  { capture: true },
);

// Ctrl+wheel zooms the planes; the plain wheel goes to niivue (slices; zoom in the 3-D view).
ui.stage.addEventListener(
  'wheel',
  (e) => {
    if (!viewer || !state.volume || !(e.ctrlKey || e.metaKey)) return;
    e.preventDefault();
    e.stopPropagation();
    viewer.zoomBy(e.deltaY < 0 ? 1.2 : 1 / 1.2);
    scheduleRender();
  },
  { capture: true, passive: false },
);

// Capture on window: these keys are the app's, before niivue's canvas handlers see them.
window.addEventListener(
  'keydown',
  (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    let handled = true;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') void undo();
    else if (e.key === 'ArrowUp' || e.key === 'PageUp') setSlice(sliceIndexOf(state.viewAxis) + 1);
    else if (e.key === 'ArrowDown' || e.key === 'PageDown') setSlice(sliceIndexOf(state.viewAxis) - 1);
    else handled = false;
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  },
  { capture: true },
);

// ---- controls -------------------------------------------------------------------------------

function setAxis(axis: Axis): void {
  state.viewAxis = axis;
  viewer?.setActiveAxis(axis);
  scheduleRender();
}

function setLayout(layout: Layout): void {
  viewer?.setLayout(layout);
  scheduleRender();
}

function setRadiological(on: boolean): void {
  viewer?.setRadiological(on);
  scheduleRender();
}

ui.slider.addEventListener('input', () => setSlice(Number(ui.slider.value)));
for (const b of ui.axisButtons.querySelectorAll<HTMLButtonElement>('button')) b.addEventListener('click', () => setAxis(b.dataset.axis as Axis));
for (const b of ui.layoutButtons.querySelectorAll<HTMLButtonElement>('button')) b.addEventListener('click', () => setLayout(b.dataset.layout as Layout));
ui.convention.addEventListener('click', () => setRadiological(!(viewer?.radiological ?? true)));
ui.zoomIn.addEventListener('click', () => {
  viewer?.zoomBy(1.25);
  scheduleRender();
});
ui.zoomOut.addEventListener('click', () => {
  viewer?.zoomBy(1 / 1.25);
  scheduleRender();
});
ui.zoomReset.addEventListener('click', () => {
  viewer?.resetView();
  scheduleRender();
});
ui.windowSelect.addEventListener('change', () => {
  const choice = ui.windowSelect.value as WindowChoice;
  if (choice === 'custom' && state.mapping) state.custom = widthLevel(state.mapping);
  setWindow(choice);
});
ui.addObject.addEventListener('click', () => {
  try {
    state.seg?.addObject();
  } catch (e) {
    reportError('Add object', e);
  }
  viewer?.setLabelColors(colorMap());
  renderObjects();
  scheduleRender();
});
ui.undo.addEventListener('click', () => void undo());
ui.resetPrompts.addEventListener('click', () => void resetPrompts());
ui.propagate.addEventListener('click', () => void propagate().catch((e) => reportError('Propagation', e)));
ui.cancel.addEventListener('click', cancelPropagation);
ui.exportButton.addEventListener('click', () => void exportMask().catch((e) => reportError('Export', e)));
ui.clearMasks.addEventListener('click', () => {
  state.seg?.clearLabels();
  refreshCounts();
  scheduleRender();
});
ui.forgetWeights.addEventListener('click', async () => {
  await forgetWeights();
  if (state.model) state.model.cache = null;
  ui.weightsStatus.textContent = ui.weightsStatus.textContent?.replace(/ · (cached in browser|from browser cache)$/, ' · not cached') ?? '';
  updateControls();
});

// A new precision reloads the weights from the browser cache (else it applies at the next load).
ui.precision.addEventListener('change', async () => {
  if (!state.model) return;
  const cached = state.model.cache ? await loadCachedWeights() : null;
  if (!cached) {
    setStatus('The precision applies when weights are loaded next');
    return;
  }
  await loadWeightsBytes(cached.name, cached.bytes, 'cache', cached.backend).catch((e) => reportError(`Reloading ${cached.name}`, e));
  updateControls();
});

for (const input of [ui.volumeInput, ui.dicomInput, ui.weightsInput]) {
  input.addEventListener('change', () => {
    const files = input.files;
    if (files && files.length) void handlePicked(filesFromInput(files));
    input.value = ''; // picking the same file again fires `change` again
  });
}

// Drag and drop anywhere on the page.
let dragDepth = 0;
window.addEventListener('dragenter', (e) => {
  if (!e.dataTransfer?.types.includes('Files')) return;
  dragDepth++;
  ui.dropOverlay.hidden = false;
});
window.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) ui.dropOverlay.hidden = true;
});
window.addEventListener('dragover', (e) => {
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
});
window.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  ui.dropOverlay.hidden = true;
  if (!e.dataTransfer) return;
  void filesFromDrop(e.dataTransfer).then(handlePicked, (err) => reportError('Drop', err));
});

new ResizeObserver(() => {
  viewer?.nv.resizeListener();
  scheduleRender();
}).observe(ui.stage);

// ---- test hook ------------------------------------------------------------------------------

export interface AppTestHook {
  /** A plain snapshot of the app state. */
  snapshot(): Record<string, unknown>;
  /** Viewport coordinates of slice pixel (x, y) of the prompt plane's slice on screen (for real mouse clicks). */
  sliceToClient(x: number, y: number): [number, number];
  /** Viewport coordinates of the middle of a plane's tile (or of the 3-D view). */
  tileCenter(tile: Axis | 'render'): [number, number];
  setSlice(index: number): void;
  setAxis(axis: Axis): void;
  setLayout(layout: Layout): void;
  setRadiological(on: boolean): void;
  /** The label slice the page holds (object ids), to compare with the exported file. */
  labelSlice(axis: Axis, index: number): number[];
  /** Makes the engine's GPU fail ('lost' destroys the device), as a driver reset would. */
  simulateGpuFault(fault: 'lost' | 'oom'): Promise<void>;
  /** Pixels of a tile, as drawn, with a saturated colour (the masks; the volume is grey). */
  tileColorPixels(tile: Axis | 'render'): number;
}

const hook: AppTestHook = {
  snapshot: () => ({
    gpu: state.gpu,
    gpuError: state.gpuError,
    model: state.model,
    volume: state.volume && { name: state.volume.name, dims: state.volume.dims, spacing: state.volume.spacing, modality: state.volume.modality ?? null },
    viewAxis: state.viewAxis,
    cursor: [...state.cursor],
    viewer: viewer && {
      layout: viewer.layout,
      radiological: viewer.radiological,
      zoom: viewer.zoom,
      volumes: viewer.nv.volumes.length,
      sliceType: viewer.nv.opts.sliceType,
      window: viewer.shownWindow,
      frameMs: Math.round(viewer.frameMs),
      renderer: viewer.renderer,
      pixelRatio: viewer.nv.uiData.dpr,
      labelVoxels: viewer.nv.volumes[1]?.img ? (viewer.nv.volumes[1].img as Uint8Array).reduce((n, v) => n + (v ? 1 : 0), 0) : 0,
    },
    viewerError: state.viewerError,
    /** The last prompt of the session (slice pixels), to check where a click landed. */
    lastPrompt: state.seg?.lastCall ?? null,
    slice: sliceIndexOf(state.viewAxis),
    numSlices: numSlices(state.viewAxis),
    sessionAxis: state.seg?.sessionAxis ?? null,
    promptCount: state.seg?.promptCount ?? 0,
    promptedSlices: state.seg?.promptedSlices ?? [],
    activeId: state.seg?.activeId ?? 0,
    objects: (state.seg?.objects ?? []).map((o) => ({ id: o.id, voxels: state.objectCounts[o.id] ?? 0 })),
    busy: [...state.busy],
    propagation: { ...state.propagation },
    progressLog: [...state.progressLog],
    lastExport: state.lastExport,
    errors: [...state.errors],
    gpuFailure: state.gpuFailure,
    window: state.mapping && { choice: state.windowChoice, ...widthLevel(state.mapping) },
  }),
  sliceToClient: (x, y) => {
    const c = sliceToClient(x, y);
    if (!c) throw new Error(`slice pixel (${x}, ${y}) of the ${state.viewAxis} plane is not on screen`);
    return c;
  },
  tileCenter: (tile) => {
    const r = ui.viewerCanvas.getBoundingClientRect();
    const t = tile === 'render' ? null : viewer?.tileRect(tile);
    if (t) return [r.left + t.x + t.w / 2, r.top + t.y + t.h / 2];
    const s = viewer?.nv.screenSlices.find((x) => x.axCorSag === 4);
    if (!s) throw new Error(`the ${tile} view is not on screen`);
    const dpr = viewer!.nv.uiData.dpr ?? 1;
    const [x, y, w, h] = s.leftTopWidthHeight;
    return [r.left + (x + w / 2) / dpr, r.top + (y + h / 2) / dpr];
  },
  setSlice,
  setAxis,
  setLayout,
  setRadiological,
  labelSlice: (axis, index) => (state.seg ? [...state.seg.labelSlice(axis, index)] : []),
  simulateGpuFault: async (fault) => {
    await engine.request({ type: 'simulateGpuFault', fault });
  },
  tileColorPixels: (tile) => {
    if (!viewer) return 0;
    const [cx, cy] = hook.tileCenter(tile);
    const r = ui.viewerCanvas.getBoundingClientRect();
    const dpr = viewer.nv.uiData.dpr ?? 1;
    const rect = tile === 'render' ? viewer.nv.screenSlices.find((x) => x.axCorSag === 4)?.leftTopWidthHeight : null;
    const t = tile === 'render' ? rect && { w: Math.abs(rect[2]) / dpr, h: rect[3] / dpr } : viewer.tileRect(tile);
    if (!t) return 0;
    // Read the frame right after drawing it (the WebGL drawing buffer is valid until composited).
    viewer.drawNow();
    const x0 = Math.round((cx - r.left - t.w / 2) * dpr);
    const y0 = Math.round((cy - r.top - t.h / 2) * dpr);
    const w = Math.max(1, Math.round(t.w * dpr));
    const h = Math.max(1, Math.round(t.h * dpr));
    const copy = document.createElement('canvas');
    copy.width = w;
    copy.height = h;
    const ctx = copy.getContext('2d')!;
    ctx.drawImage(ui.viewerCanvas, x0, y0, w, h, 0, 0, w, h);
    const px = ctx.getImageData(0, 0, w, h).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      const hi = Math.max(px[i], px[i + 1], px[i + 2]);
      const lo = Math.min(px[i], px[i + 1], px[i + 2]);
      if (hi - lo > 60) n++;
    }
    return n;
  },
};
(window as unknown as { __sam2app: AppTestHook }).__sam2app = hook;

// ---- start ----------------------------------------------------------------------------------

/** niivue on the stage; without WebGL2 the page still loads weights and runs the model, but shows nothing. */
async function startViewer(): Promise<void> {
  try {
    viewer = await VolumeViewer.create(ui.viewerCanvas);
  } catch (e) {
    state.viewerError = `The viewer needs WebGL2, which this browser did not give: ${e instanceof Error ? e.message : String(e)}`;
    showBanner(state.viewerError);
    return;
  }
  viewer.onDraw = drawMarks;
  viewer.onCursor = (voxel: Vec3) => {
    // The crosshair moved inside niivue (click or wheel on a plane): the slider and readout follow.
    state.cursor = voxel;
    scheduleRender();
  };
}

async function start(): Promise<void> {
  updateControls();
  renderObjects();
  await startViewer();
  if (!(navigator as Navigator & { gpu?: GPU }).gpu) {
    state.gpuError =
      'WebGPU is not available in this browser (navigator.gpu is missing), so the model cannot run here. ' +
      'Use a recent Chrome or Edge (113 or later), Safari 26, or Firefox 141+ on Windows; on Linux, Chromium needs ' +
      '--enable-unsafe-webgpu (and --enable-features=Vulkan). You can still open and view volumes.';
    showBanner(state.gpuError);
    setStatus('No WebGPU', 'error');
    return;
  }
  try {
    state.gpu = await busy('Starting WebGPU', () => engine.request({ type: 'init' }));
    ui.adapter.textContent = `GPU: ${state.gpu.adapterName}${state.gpu.isFallback ? ' (software, slow)' : ''}${state.gpu.features.f16 ? ' · f16' : ''}`;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const why = /no adapter/i.test(msg)
      ? 'the browser has WebGPU but gave no GPU adapter (WebGPU disabled or the GPU blocklisted: see chrome://gpu; ' +
        'on Linux, Chromium may need --enable-unsafe-webgpu --enable-features=Vulkan)'
      : msg;
    state.gpuError = `WebGPU could not start: ${why}. You can still open and view volumes.`;
    showBanner(state.gpuError);
    setStatus('WebGPU failed', 'error');
    return;
  }
  updateControls();
  const cached = await loadCachedWeights();
  if (cached) {
    await loadWeightsBytes(cached.name, cached.bytes, 'cache', cached.backend).catch((e) => reportError(`Loading cached weights ${cached.name}`, e));
  } else {
    setStatus('Ready: open a volume and load SAM 2 weights');
  }
  updateControls();
}

void start();
