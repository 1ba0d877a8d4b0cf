// The engine's home in the browser: a module Web Worker that owns the WebGPU device, the SAM 2
// model and the video session, and also reads volumes and writes the exported mask, so the page's
// thread only draws and handles input. Protocol: app/protocol.ts. GPU work is serialized (one
// request at a time); `cancel` bypasses the queue so it can stop a running propagation.
/// <reference lib="webworker" />
import { precisionLabel } from '../src/model/precision.js';
import { Sam2Model } from '../src/model/sam2-model.js';
import { Sam2Video, type SliceResult } from '../src/model/video-predictor.js';
import { Gpu } from '../src/runtime/gpu.js';
import { GpuDeviceLostError, GpuError } from '../src/runtime/gpu-errors.js';
import { groupBySeries, hasDicomMagic, parseDicomSlice, readDicomSeries, type NamedBuffer } from '../src/volume/dicom.js';
import { readNifti, writeNiftiLabels } from '../src/volume/nifti.js';
import { invertReorientation, reorient, type Reorientation } from '../src/volume/orientation.js';
import { sliceShape, type Axis } from '../src/volume/slicing.js';
import { axisCodes, labelVolumeLike, voxelCount, type Volume } from '../src/volume/volume.js';
import { computeMapping, valueStats, windowSlice, type IntensityMapping } from '../src/volume/windowing.js';
import type { Direction, GpuFailureKind, PromptCall, PropagationSummary, Request, ResultOf, SliceMasks, VolumeInfo, WorkerMessage } from './protocol.js';

declare const self: DedicatedWorkerGlobalScope;

interface LoadedVolume {
  /** The file's own grid and geometry (data dropped): masks are written back on it. */
  sourceGeometry: Volume;
  plan: Reorientation;
  /** Reoriented (LPS) volume the views and the model slice. */
  view: Volume;
  baseName: string;
}

interface Session {
  axis: Axis;
  video: Sam2Video;
  /** The propagation in progress (kept when a GPU failure stops it, for resumePropagation). */
  run: { done: number; total: number; seconds: number } | null;
}

let gpu: Gpu | null = null;
let model: Sam2Model | null = null;
/** The weights file, kept to load the model again on a new device after a GPU failure. */
let weightsBytes: Uint8Array | null = null;
/** The precision the model was loaded with, kept for the same reason. */
let weightsPrecision: string | undefined;
let volume: LoadedVolume | null = null;
let session: Session | null = null;
let cancelRequested = false;

function post(msg: WorkerMessage, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

/** The distinct buffers behind some masks (a buffer listed twice makes postMessage throw). */
function buffersOf(masks: readonly Uint8Array[]): ArrayBuffer[] {
  return [...new Set(masks.map((m) => m.buffer as ArrayBuffer))];
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message || String(e);
  return String(e);
}

function requireGpu(): Gpu {
  if (!gpu) throw new Error('the GPU is not initialised (WebGPU failed to start; see the message above)');
  return gpu;
}

function requireModel(): Sam2Model {
  if (!model) throw new Error('no model loaded: load SAM 2 weights (.safetensors) first');
  return model;
}

function requireVolume(): LoadedVolume {
  if (!volume) throw new Error('no volume loaded: open a .nii/.nii.gz file or a DICOM folder first');
  return volume;
}

function requireSession(): Session {
  if (!session) throw new Error('no segmentation session: add a prompt first');
  return session;
}

function disposeSession(): void {
  session?.video.dispose();
  session = null;
}

// ---- requests -------------------------------------------------------------------------------

async function init(): Promise<ResultOf['init']> {
  gpu ??= await Gpu.create();
  return { adapterName: gpu.adapterName, isFallback: gpu.info.isFallback, features: { ...gpu.features } };
}

async function loadWeights(name: string, bytes: Uint8Array, precision?: string): Promise<ResultOf['loadWeights']> {
  const g = requireGpu();
  disposeSession();
  model?.release();
  model = null;
  try {
    // f16 activations fall back to f32 (with a console warning) where the adapter lacks shader-f16.
    model = await Sam2Model.load(g, bytes, { precision: precision || undefined, fallback: true });
    weightsBytes = bytes;
    weightsPrecision = precision || undefined;
  } catch (e) {
    if (e instanceof GpuError || e instanceof GpuDeviceLostError) throw e;
    throw new Error(`${name}: ${describe(e)}`);
  }
  return {
    arch: model.config.arch,
    version: model.config.version,
    imageSize: model.config.imageSize,
    precision: precisionLabel(model.precision),
    weightsBytes: model.weights.uploadedBytes,
  };
}

function stripVolumeExtension(name: string): string {
  return name.replace(/\.nii(\.gz)?$/i, '').replace(/\.gz$/i, '') || 'volume';
}

/** One NIfTI file, or the files of a DICOM folder (non-DICOM files such as DICOMDIR are skipped). */
async function readVolume(files: File[], name: string): Promise<Volume> {
  if (files.length === 0) throw new Error(`${name}: no files`);
  const buffers: NamedBuffer[] = await Promise.all(files.map(async (f) => ({ name: f.name, data: new Uint8Array(await f.arrayBuffer()) })));
  const dicom = buffers.filter((b) => hasDicomMagic(b.data as Uint8Array));
  if (dicom.length === 0) {
    if (buffers.length > 1) {
      throw new Error(`${name}: ${buffers.length} files but none is DICOM (no "DICM" marker); open a single .nii/.nii.gz file or a DICOM folder`);
    }
    return readNifti(buffers[0].data, { name: buffers[0].name });
  }
  if (dicom.length === 1) throw new Error(`${name}: a single DICOM file is one slice, not a volume; open the folder holding the whole series`);
  // Several series in one folder: take the largest, as viewers do, and say so. Files that are not
  // readable images (a report, a broken file) are skipped here; readDicomSeries lists them.
  const parsed = dicom.flatMap((b) => {
    try {
      return [parseDicomSlice(b)];
    } catch {
      return [];
    }
  });
  if (parsed.length === 0) return readDicomSeries(dicom, { name });
  const series = groupBySeries(parsed);
  series.sort((a, b) => b.files.length - a.files.length);
  const chosen = series[0];
  const files2 = series.length > 1 ? dicom.filter((b) => chosen.files.includes(b.name)) : dicom;
  const v = readDicomSeries(files2, { name, seriesUid: series.length > 1 ? chosen.seriesUid : undefined });
  if (series.length > 1) {
    v.warnings = [
      ...(v.warnings ?? []),
      `the folder holds ${series.length} series; showing the largest (${chosen.files.length} files${chosen.description ? `, "${chosen.description}"` : ''})`,
    ];
  }
  return v;
}

async function openVolume(files: File[], name: string): Promise<ResultOf['openVolume']> {
  const source = await readVolume(files, name);
  const { volume: view, plan } = reorient(source, 'LPS');
  disposeSession();
  volume = {
    sourceGeometry: { ...source, data: new Uint8Array(0) },
    plan,
    view,
    baseName: stripVolumeExtension(name),
  };
  const stats = valueStats(view.data);
  if (stats.count === 0) throw new Error(`${name}: the volume has no finite values`);
  let percentileMapping: IntensityMapping | null = null;
  try {
    percentileMapping = computeMapping(view.data, { kind: 'percentile' });
  } catch {
    percentileMapping = null; // all-zero volume: the page falls back to min-max
  }
  const signed = !(view.data instanceof Uint8Array || view.data instanceof Uint16Array || view.data instanceof Uint32Array);
  const looksLikeCt = source.source?.modality === 'CT' || (source.source?.modality === undefined && signed && stats.min <= -500 && stats.max >= 300);
  const info: VolumeInfo = {
    name,
    format: source.source?.format ?? 'memory',
    modality: source.source?.modality,
    dims: view.dims,
    spacing: view.spacing,
    sourceAxes: axisCodes(source.affine),
    data: view.data,
    min: stats.min,
    max: stats.max,
    percentileMapping,
    looksLikeCt,
    warnings: source.warnings ?? [],
  };
  return info;
}

function startSession(axis: Axis, mapping: IntensityMapping): ResultOf['startSession'] {
  requireGpu();
  const m = requireModel();
  const vol = requireVolume().view;
  disposeSession();
  const shape = sliceShape(vol.dims, axis);
  // The window is fixed for the session: every slice the model sees is mapped the same way.
  const frozen = { ...mapping };
  const video = Sam2Video.create(m, {
    numFrames: shape.count,
    width: shape.width,
    height: shape.height,
    loadSlice: (t) => windowSlice(vol.data, vol.dims, axis, t, frozen),
    addAllFramesToCorrectAsCond: true,
  });
  session = { axis, video, run: null };
  return { numSlices: shape.count, width: shape.width, height: shape.height };
}

function pick(result: SliceResult, objIds: readonly number[]): SliceMasks {
  const ids: number[] = [];
  const masks: Uint8Array[] = [];
  result.objIds.forEach((id, i) => {
    if (objIds.includes(id)) {
      ids.push(id);
      masks.push(result.masks[i]);
    }
  });
  return { slice: result.slice, objIds: ids, masks };
}

async function runPrompt(s: Session, call: PromptCall): Promise<SliceMasks> {
  const { slice, objId, points, labels, box } = call;
  const result = box ? await s.video.addBox(slice, objId, box, points, labels) : await s.video.addPoints(slice, objId, points, labels);
  return pick(result, [objId]);
}

async function replay(calls: PromptCall[]): Promise<SliceMasks[]> {
  const s = requireSession();
  s.video.reset();
  const out: SliceMasks[] = [];
  for (const c of calls) out.push(await runPrompt(s, c));
  return out;
}

function propagationTotal(n: number, from: number, direction: Direction): number {
  if (direction === 'forward') return n - from;
  if (direction === 'backward') return from > 0 ? from + 1 : 0;
  return n;
}

async function propagate(requestId: number, from: number, direction: Direction): Promise<PropagationSummary> {
  const s = requireSession();
  s.run = { done: 0, total: propagationTotal(s.video.numSlices, from, direction), seconds: 0 };
  return streamPropagation(requestId, s, s.video.propagate({ from, direction }));
}

/** Streams slices as progress events; the session's run keeps the count across a GPU failure. */
async function streamPropagation(requestId: number, s: Session, results: AsyncGenerator<SliceResult>): Promise<PropagationSummary> {
  const run = s.run!;
  cancelRequested = false;
  const t0 = performance.now();
  try {
    for await (const r of results) {
      run.done++;
      const masks = pick(r, r.objIds);
      const seconds = run.seconds + (performance.now() - t0) / 1000;
      post(
        { type: 'progress', requestId, done: run.done, total: run.total, slicesPerSecond: seconds > 0 ? run.done / seconds : 0, result: masks },
        buffersOf(masks.masks),
      );
    }
  } finally {
    run.seconds += (performance.now() - t0) / 1000;
  }
  s.run = null;
  return { done: run.done, total: run.total, seconds: run.seconds, cancelled: cancelRequested && run.done < run.total };
}

async function resumePropagation(requestId: number): Promise<PropagationSummary> {
  const s = requireSession();
  if (!s.run || !s.video.interrupted) throw new Error('there is no interrupted propagation to resume');
  return streamPropagation(requestId, s, s.video.resumePropagation());
}

/**
 * After a GPU failure (device lost, out of memory): a new device, the model loaded again, and the
 * session (prompts, finished slices, an interrupted propagation) carried onto it.
 */
async function recoverGpu(): Promise<ResultOf['recoverGpu']> {
  const old = gpu;
  const next = await Gpu.create();
  const nextModel = weightsBytes ? await Sam2Model.load(next, weightsBytes, { precision: weightsPrecision, fallback: true }) : null;
  if (session && nextModel) {
    // The session's loadSlice (host volume, frozen window) serves the new model unchanged.
    const video = await session.video.resumeOn(nextModel);
    session.video.dispose();
    session.video = video;
  } else {
    disposeSession();
  }
  model?.release();
  model = nextModel;
  gpu = next;
  try {
    old?.destroy();
  } catch {
    /* the old device is gone already */
  }
  return { adapterName: next.adapterName, resumable: !!session?.run && session.video.interrupted };
}

function exportMask(labels: Uint8Array): ResultOf['exportMask'] {
  const vol = requireVolume();
  if (labels.length !== voxelCount(vol.view.dims)) {
    throw new Error(`exportMask: ${labels.length} labels for a ${vol.view.dims.join('×')} volume`);
  }
  const onSource = invertReorientation(labels, vol.plan);
  const bytes = writeNiftiLabels(labelVolumeLike(vol.sourceGeometry, onSource), { description: 'sam2-webgpu masks (label = object id)' });
  return { bytes, name: `${vol.baseName}_sam2-mask.nii.gz` };
}

// ---- dispatch -------------------------------------------------------------------------------

let queue: Promise<unknown> = Promise.resolve();

/** Runs GPU-touching requests one after another. */
function serial<T>(fn: () => Promise<T> | T): Promise<T> {
  const run = queue.then(fn);
  queue = run.catch(() => undefined);
  return run;
}

async function handle(id: number, req: Request): Promise<{ result: unknown; transfer?: Transferable[] }> {
  switch (req.type) {
    case 'init':
      return { result: await serial(init) };
    case 'loadWeights':
      return { result: await serial(() => loadWeights(req.name, req.bytes, req.precision)) };
    case 'openVolume': {
      const info = await serial(() => openVolume(req.files, req.name));
      // The page gets its own copy of the voxels; the worker keeps the original for the model.
      return { result: { ...info, data: info.data.slice() } };
    }
    case 'startSession':
      return { result: await serial(() => startSession(req.axis, req.mapping)) };
    case 'resetSession':
      return {
        result: await serial(() => {
          session?.video.reset();
          return null;
        }),
      };
    case 'prompt': {
      const r = await serial(() => runPrompt(requireSession(), req.call));
      return { result: r, transfer: buffersOf(r.masks) };
    }
    case 'replay': {
      const r = await serial(() => replay(req.calls));
      return { result: r, transfer: buffersOf(r.flatMap((x) => x.masks)) };
    }
    case 'propagate':
      return { result: await serial(() => propagate(id, req.from, req.direction)) };
    case 'cancel':
      cancelRequested = true;
      session?.video.cancel();
      return { result: null };
    case 'exportMask': {
      const r = await serial(() => exportMask(req.labels));
      return { result: r, transfer: [r.bytes.buffer as ArrayBuffer] };
    }
    case 'recoverGpu':
      return { result: await serial(recoverGpu) };
    case 'resumePropagation':
      return { result: await serial(() => resumePropagation(id)) };
    case 'simulateGpuFault': {
      // Not queued: like a real driver reset, it strikes whatever is running.
      const g = requireGpu();
      if (req.fault === 'lost') g.device.destroy();
      else g.errors.inject({ failAllocation: 1 });
      return { result: null };
    }
  }
}

/** What kind of GPU failure an error is, if any (the page then offers to resume on a new device). */
function gpuFailureOf(e: unknown): GpuFailureKind | undefined {
  if (e instanceof GpuDeviceLostError) return 'lost';
  if (e instanceof GpuError) return e.kind === 'out-of-memory' ? 'out-of-memory' : 'error';
  return undefined;
}

self.onmessage = (ev: MessageEvent<{ id: number; request: Request }>) => {
  const { id, request } = ev.data;
  handle(id, request).then(
    ({ result, transfer }) => post({ type: 'reply', id, ok: true, result }, transfer),
    (e) => {
      console.error(e);
      post({ type: 'reply', id, ok: false, error: describe(e), gpu: gpuFailureOf(e) });
    },
  );
};
