// Evaluation report: per-structure metrics (+ slice count and time from the run) as a plain object,
// serialised to JSON and to a Markdown table, and the choice of slices to picture in overlays.
// JSON has no NaN/Infinity: such values become null, and each structure's `empty` field says why
// (see metrics.ts: both masks empty → HD95 undefined; one empty → HD95 infinite).

import type { Axis } from '../volume/slicing.js';
import type { Box, Point } from '../volume/validate.js';
import type { VoxelData } from '../volume/volume.js';
import type { EmptyCase, LabelMetrics } from './metrics.js';
import { sliceAreas } from './prompts.js';

export interface StructureReport {
  label: number;
  name?: string;
  dice: number;
  iou: number;
  nsd: number;
  hd95: number;
  hd: number;
  assd: number;
  predVoxels: number;
  gtVoxels: number;
  empty: EmptyCase;
  /** Number of slices the model produced a mask for (propagation length). */
  slices?: number;
  /** Wall time for this structure (prompt + propagation), ms. */
  timeMs?: number;
  keySlice?: number;
  prompt?: { box?: Box; points?: Point[] };
}

export interface ReportSummary {
  structures: number;
  meanDice: number;
  meanIou: number;
  meanNsd: number;
  /** Mean over structures with a finite HD95. */
  meanHd95: number;
  finiteHd95: number;
  totalTimeMs?: number;
}

export interface EvalReport {
  title: string;
  createdAt: string;
  image?: { name?: string; dims: number[]; spacing: number[] };
  axis?: Axis;
  nsdToleranceMm: number;
  /** Free-form run details: model, weights, device, window, etc. */
  meta?: Record<string, string | number | boolean>;
  structures: StructureReport[];
  summary: ReportSummary;
  overlays?: Array<{ label: number; slice: number; file: string }>;
}

/** Parses "index name ..." lines (MRIcron/AAL .txt, ITK-SNAP label descriptions with a quoted name). */
export function parseLabelNames(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const quoted = /^(\d+)\s.*"([^"]*)"\s*$/.exec(t);
    const plain = /^(\d+)\s+(\S+)/.exec(t);
    const m = quoted ?? plain;
    if (m) names.set(Number(m[1]), m[2]);
  }
  return names;
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export function buildReport(args: {
  title: string;
  metrics: LabelMetrics[];
  nsdToleranceMm: number;
  names?: Map<number, string>;
  runs?: Map<number, { slices?: number; timeMs?: number; keySlice?: number; prompt?: StructureReport['prompt'] }>;
  image?: EvalReport['image'];
  axis?: Axis;
  meta?: EvalReport['meta'];
  createdAt?: string;
}): EvalReport {
  const structures: StructureReport[] = args.metrics.map((m) => ({
    ...m,
    name: args.names?.get(m.label),
    ...args.runs?.get(m.label),
  }));
  const finite = structures.filter((s) => Number.isFinite(s.hd95)).map((s) => s.hd95);
  const times = structures.map((s) => s.timeMs).filter((t): t is number => t !== undefined);
  return {
    title: args.title,
    createdAt: args.createdAt ?? new Date().toISOString(),
    image: args.image,
    axis: args.axis,
    nsdToleranceMm: args.nsdToleranceMm,
    meta: args.meta,
    structures,
    summary: {
      structures: structures.length,
      meanDice: mean(structures.map((s) => s.dice)),
      meanIou: mean(structures.map((s) => s.iou)),
      meanNsd: mean(structures.map((s) => s.nsd)),
      meanHd95: mean(finite),
      finiteHd95: finite.length,
      totalTimeMs: times.length ? times.reduce((a, b) => a + b, 0) : undefined,
    },
  };
}

export function reportToJson(report: EvalReport): string {
  return JSON.stringify(report, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2);
}

function num(v: number | undefined, digits: number): string {
  if (v === undefined) return '';
  if (Number.isNaN(v)) return 'n/a';
  if (v === Infinity) return '∞';
  return v.toFixed(digits);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function reportToMarkdown(report: EvalReport): string {
  const lines: string[] = [`# ${cell(report.title)}`, ''];
  if (report.image) {
    lines.push(
      `Image: ${report.image.name ? `${cell(report.image.name)}, ` : ''}${report.image.dims.join('×')} voxels, spacing ${report.image.spacing.map((s) => +s.toFixed(4)).join('×')} mm`,
    );
  }
  if (report.axis) lines.push(`Axis: ${report.axis}`);
  lines.push(`NSD tolerance: ${report.nsdToleranceMm} mm`);
  for (const [k, v] of Object.entries(report.meta ?? {})) lines.push(`${cell(k)}: ${cell(String(v))}`);
  lines.push('', '| Label | Structure | Dice | IoU | NSD | HD95 (mm) | Slices | Time (s) |', '|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const s of report.structures) {
    const note = s.empty === 'both' ? ' (both empty)' : s.empty === 'prediction' ? ' (no prediction)' : s.empty === 'ground-truth' ? ' (not in GT)' : '';
    lines.push(
      `| ${s.label} | ${cell(s.name ?? '')}${note} | ${num(s.dice, 4)} | ${num(s.iou, 4)} | ${num(s.nsd, 4)} | ${num(s.hd95, 2)} | ${s.slices ?? ''} | ${s.timeMs === undefined ? '' : num(s.timeMs / 1000, 2)} |`,
    );
  }
  const m = report.summary;
  lines.push(
    `| | **Mean** (${m.structures}) | ${num(m.meanDice, 4)} | ${num(m.meanIou, 4)} | ${num(m.meanNsd, 4)} | ${num(m.meanHd95, 2)}${m.finiteHd95 < m.structures ? ` (${m.finiteHd95} finite)` : ''} | | ${m.totalTimeMs === undefined ? '' : num(m.totalTimeMs / 1000, 2)} |`,
  );
  if (report.overlays?.length) {
    lines.push('');
    for (const o of report.overlays) lines.push(`![label ${o.label}, slice ${o.slice}](${o.file})`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Slices worth picturing for one structure: `count` slices evenly spread over the range where it
 * appears in the ground truth or the prediction, always including `keySlice` when given.
 */
export function pickOverlaySlices(
  gt: VoxelData,
  pred: VoxelData,
  dims: readonly number[],
  axis: Axis,
  label: number,
  count = 3,
  keySlice?: number,
): number[] {
  const a = sliceAreas(gt, dims, axis, label);
  const b = sliceAreas(pred, dims, axis, label);
  let first = -1;
  let last = -1;
  for (let s = 0; s < a.length; s++) {
    if (a[s] || b[s]) {
      if (first < 0) first = s;
      last = s;
    }
  }
  if (first < 0) return keySlice === undefined ? [] : [keySlice];
  const picks = new Set<number>();
  if (keySlice !== undefined) picks.add(keySlice);
  for (let n = 0; picks.size < count && n < count; n++) {
    picks.add(Math.round(first + ((last - first) * (n + 1)) / (count + 1)));
  }
  return [...picks].sort((x, y) => x - y);
}
