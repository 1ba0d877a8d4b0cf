// quant-eval output: JSON (every number), a Markdown table, and a PNG bar chart of size, speed and
// agreement with f32 per precision.
import type { QuantEvalResult } from '../pipeline/quant-eval.js';
import { barChartPng } from './bar-chart.js';

export interface QuantReportInfo {
  title: string;
  /** Lines printed under the table (volume, structures, slices, caveats). */
  notes: string[];
}

const MB = 1e6;

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

function sci(v: number): string {
  return v === 0 ? '0' : Number.isFinite(v) ? v.toExponential(1) : '–';
}

export function quantReportJson(result: QuantEvalResult, info: QuantReportInfo): string {
  return `${JSON.stringify({ title: info.title, createdAt: new Date().toISOString(), adapter: result.adapter, model: result.model, notes: info.notes, cancelled: result.cancelled, rows: result.rows }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

export function quantReportMarkdown(result: QuantEvalResult, info: QuantReportInfo): string {
  const f32 = result.rows.find((r) => r.precision === 'f32');
  const lines = [
    `### ${info.title}`,
    '',
    `${result.model} on ${result.adapter}.`,
    '',
    '| precision | weights MB | vs f32 | peak GPU MB | slices/s | Dice vs f32 (volume) | slice Dice vs f32 (mean / min) | Dice vs labels | NSD vs labels | rel-L2 encoder | memattn | memenc | decoder |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of result.rows) {
    const ratio = f32 ? `${(f32.weightsBytes / r.weightsBytes).toFixed(2)}×` : '';
    const c = r.components;
    lines.push(
      `| ${r.precision === r.resolved ? r.precision : `${r.precision} (${r.resolved})`} | ${fixed(r.weightsBytes / MB, 1)} | ${ratio} | ${fixed(r.peakGpuBytes / MB, 0)} | ` +
        `${fixed(r.slicesPerSecond, 3)} | ${fixed(r.agreement.volumeDice, 4)} | ${fixed(r.agreement.sliceDiceMean, 4)} / ${fixed(r.agreement.sliceDiceMin, 4)} | ` +
        `${fixed(r.dice, 4)} | ${fixed(r.nsd, 4)} | ${sci(c.encoder)} | ${sci(c.memattn)} | ${sci(c.memenc)} | ${sci(c.decoder)} |`,
    );
  }
  lines.push('', ...info.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

export function quantReportPng(result: QuantEvalResult, info: QuantReportInfo): Uint8Array {
  const rows = result.rows;
  return barChartPng({
    title: info.title,
    note: `${result.model} - ${result.adapter}`.slice(0, 110),
    labels: rows.map((r) => r.precision),
    panels: [
      { title: 'WEIGHTS MB', values: rows.map((r) => r.weightsBytes / MB), format: (v) => v.toFixed(1) },
      { title: 'SLICES/S', values: rows.map((r) => r.slicesPerSecond), format: (v) => v.toFixed(3) },
      { title: 'DICE VS F32', values: rows.map((r) => r.agreement.volumeDice), format: (v) => v.toFixed(4), max: 1 },
      { title: 'ENCODER REL-L2', values: rows.map((r) => r.components.encoder), format: (v) => (v === 0 ? '0' : v.toExponential(1)) },
    ],
  });
}
