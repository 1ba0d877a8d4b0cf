// Evaluation flow of promptable 3-D segmentation against a ground-truth label volume, one structure
// at a time (MedSAM2's 3-D protocol): simulate the prompt on the structure's key slice (largest
// area) from the ground truth (box, mask, or a centre click plus corrective clicks), propagate
// both ways, optionally keep the largest connected component, then compute Dice / IoU / NSD /
// HD95 and picture a few slices. Each structure gets a fresh predictor, so structures are
// independent of each other and of the order they are given in.

import { evaluateLabelMaps, type LabelMetrics } from '../eval/metrics.js';
import { overlayPng } from '../eval/overlay.js';
import { correctiveClick, simulatePrompt } from '../eval/prompts.js';
import { buildReport, pickOverlaySlices, type EvalReport, type StructureReport } from '../eval/report.js';
import type { Sam2Model } from '../model/sam2-model.js';
import type { Gpu } from '../runtime/gpu.js';
import { allocateLabels } from '../volume/nifti.js';
import { extractLabelMask } from '../volume/slicing.js';
import type { Point } from '../volume/validate.js';
import type { LabelData, VoxelData } from '../volume/volume.js';
import type { PreparedVolume } from './prepare-volume.js';
import { VolumeSegmenter, type ObjectPrompt, type PropagationOptions } from './segment-volume.js';

export type PromptMode = { kind: 'box' } | { kind: 'mask' } | { kind: 'clicks'; clicks: number };

/** "box", "mask", "clicks" (one centre click) or "clicks:K" (centre click + K − 1 corrective clicks). */
export function parsePromptMode(text: string): PromptMode {
  const t = text.trim().toLowerCase();
  if (t === 'box' || t === 'mask') return { kind: t };
  const m = /^clicks?(?::(\d+))?$/.exec(t);
  if (m) {
    const clicks = m[1] === undefined ? 1 : Number(m[1]);
    if (!(clicks >= 1 && clicks <= 100)) throw new Error(`clicks:K needs K in 1..100, got ${m[1]}`);
    return { kind: 'clicks', clicks };
  }
  throw new Error(`unknown prompt ${JSON.stringify(text)}; use box, mask or clicks:K (e.g. clicks:3)`);
}

export function promptModeName(mode: PromptMode): string {
  return mode.kind === 'clicks' ? `clicks:${mode.clicks}` : mode.kind;
}

/** Throws unless every structure occurs in the labels, naming the missing ones and some present ones. */
export function checkStructuresPresent(labels: ArrayLike<number>, structures: readonly number[], name = 'labels'): void {
  if (structures.length === 0) throw new Error('no structures to evaluate');
  const present = new Set<number>();
  for (let i = 0; i < labels.length; i++) if (labels[i]) present.add(labels[i]);
  const missing = structures.filter((s) => !present.has(s));
  if (missing.length) {
    const list = [...present].sort((a, b) => a - b);
    const shown = list.length > 20 ? `${list.slice(0, 20).join(', ')}, ... (${list.length} in all)` : list.join(', ') || 'none';
    throw new Error(`${name}: structure${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found; label values present: ${shown}`);
  }
}

export interface EvaluationOptions extends Pick<PropagationOptions, 'direction' | 'maxSlices' | 'largestComponent' | 'signal'> {
  structures: number[];
  prompt: PromptMode;
  /** Box jitter in pixels (MedSAM's random shift; default 0) and its seed. */
  jitter?: number;
  seed?: number;
  nsdToleranceMm?: number;
  names?: Map<number, string>;
  /** Overlay pictures per structure (default 3; 0 for none). */
  overlaysPerStructure?: number;
  title?: string;
  meta?: Record<string, string | number | boolean>;
  onStructure?: (info: { index: number; count: number; label: number; name?: string; keySlice: number; expectedSlices: number }) => void;
  onSlice?: (done: number, total: number, slice: number) => void;
}

export interface OverlayImage {
  label: number;
  slice: number;
  /** Suggested file name, e.g. "label-37-axial-090.png". */
  file: string;
  png: Uint8Array;
}

export interface EvaluationResult {
  report: EvalReport;
  /** Every structure's prediction on the oriented grid (value = structure label; later ones win overlaps). */
  predicted: LabelData;
  overlays: OverlayImage[];
  /** Slices segmented over all structures, and the time spent. */
  slices: number;
  timeMs: number;
  cancelled: boolean;
}

/**
 * Runs the evaluation. `gt` is the label volume on the prepared volume's oriented grid
 * (orientLike(prepared, labels.data)).
 */
export async function evaluateVolume(
  gpu: Gpu,
  model: Sam2Model,
  prepared: PreparedVolume,
  gt: VoxelData,
  options: EvaluationOptions,
): Promise<EvaluationResult> {
  const { axis, width, height } = prepared;
  const dims = prepared.oriented.dims;
  const spacing = prepared.oriented.spacing;
  const n = dims[0] * dims[1] * dims[2];
  if (gt.length !== n) throw new Error(`ground truth has ${gt.length} voxels, the volume ${n}`);
  checkStructuresPresent(gt, options.structures);
  const nsdToleranceMm = options.nsdToleranceMm ?? 2;
  const predicted = allocateLabels(n, Math.max(...options.structures));
  const metrics: LabelMetrics[] = [];
  const runs = new Map<number, Pick<StructureReport, 'slices' | 'timeMs' | 'keySlice' | 'prompt'>>();
  const overlays: OverlayImage[] = [];
  let slices = 0;
  let timeMs = 0;
  let cancelled = false;

  for (const [index, label] of options.structures.entries()) {
    if (options.signal?.aborted) {
      cancelled = true;
      break;
    }
    const sim = simulatePrompt(gt, dims, axis, label, { jitter: options.jitter, seed: options.seed });
    const t0 = performance.now();
    const segmenter = VolumeSegmenter.create(gpu, model, prepared, { nonOverlapMasks: false });
    let result;
    let prompt: StructureReport['prompt'];
    try {
      const base = { label: 1, slice: sim.sliceIndex };
      if (options.prompt.kind === 'box') {
        prompt = { box: sim.box };
        await segmenter.prompt({ ...base, box: sim.box });
      } else if (options.prompt.kind === 'mask') {
        await segmenter.prompt({ ...base, mask: sim.mask });
      } else {
        const points: Point[] = [...sim.points];
        let pred = await segmenter.prompt({ ...base, points });
        for (let k = 1; k < options.prompt.clicks; k++) {
          const click = correctiveClick(sim.mask, pred, width, height, points);
          if (!click) break;
          points.push(click);
          pred = await segmenter.prompt({ ...base, points } satisfies ObjectPrompt);
        }
        prompt = { points };
      }
      options.onStructure?.({
        index,
        count: options.structures.length,
        label,
        name: options.names?.get(label),
        keySlice: sim.sliceIndex,
        expectedSlices: segmenter.expectedSlices(options),
      });
      result = await segmenter.propagate({
        direction: options.direction,
        maxSlices: options.maxSlices,
        largestComponent: options.largestComponent,
        signal: options.signal,
        onSlice: options.onSlice,
      });
    } finally {
      segmenter.dispose();
    }
    const elapsed = performance.now() - t0;
    if (result.cancelled) {
      cancelled = true;
      break;
    }
    slices += result.slices.length;
    timeMs += elapsed;

    const pred = result.labels;
    const gtMask = new Uint8Array(n);
    for (let v = 0; v < n; v++) {
      if (gt[v] === label) gtMask[v] = 1;
      if (pred[v]) predicted[v] = label;
    }
    const [m] = evaluateLabelMaps(pred, gtMask, dims, spacing, { labels: [1], nsdToleranceMm });
    metrics.push({ ...m, label });
    runs.set(label, { slices: result.slices.length, timeMs: elapsed, keySlice: sim.sliceIndex, prompt });

    const count = options.overlaysPerStructure ?? 3;
    if (count > 0) {
      for (const s of pickOverlaySlices(gtMask, pred, dims, axis, 1, count, sim.sliceIndex)) {
        const isKey = s === sim.sliceIndex;
        const png = overlayPng(
          prepared.slice(s),
          width,
          height,
          { prediction: extractLabelMask(pred, dims, axis, s, 1), groundTruth: extractLabelMask(gtMask, dims, axis, s, 1) },
          isKey ? { box: prompt?.box, points: prompt?.points } : {},
        );
        overlays.push({ label, slice: s, file: `label-${label}-${axis}-${String(s).padStart(3, '0')}.png`, png });
      }
    }
  }

  const report = buildReport({
    title: options.title ?? 'SAM 2 volume evaluation',
    metrics,
    nsdToleranceMm,
    names: options.names,
    runs,
    image: { name: prepared.source.source?.name, dims: [...prepared.source.dims], spacing: [...prepared.source.spacing] },
    axis,
    meta: {
      ...options.meta,
      prompt: promptModeName(options.prompt),
      direction: options.direction ?? 'both',
      ...(options.maxSlices !== undefined ? { 'max slices per direction': options.maxSlices } : {}),
      'largest component': !!options.largestComponent,
      window: prepared.window.name,
      ...(slices > 0 && timeMs > 0 ? { 'slices/s': +(slices / (timeMs / 1000)).toFixed(3) } : {}),
      ...(cancelled ? { cancelled: true } : {}),
    },
  });
  report.overlays = overlays.map(({ label, slice, file }) => ({ label, slice, file }));
  return { report, predicted, overlays, slices, timeMs, cancelled };
}
