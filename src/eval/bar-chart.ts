// Horizontal bar charts as PNG: one panel per metric, one bar per configuration, the value printed
// after each bar. Used by quant-eval to put size, speed and agreement side by side.
import { drawText, GLYPH_H, textWidth } from './bitmap-font.js';
import { encodePng } from './png.js';

export interface ChartPanel {
  title: string;
  /** One value per row label (NaN draws no bar). */
  values: number[];
  /** How a value is printed next to its bar. */
  format?: (v: number) => string;
  /** Axis maximum (default: the largest value). */
  max?: number;
}

export interface BarChart {
  title: string;
  labels: string[];
  panels: ChartPanel[];
  /** A line under the title (e.g. the adapter or a caveat). */
  note?: string;
}

const INK: [number, number, number] = [30, 30, 30];
const GREY: [number, number, number] = [120, 120, 120];
const PALETTE: Array<[number, number, number]> = [[70, 110, 190], [220, 130, 40], [60, 160, 90], [180, 70, 150]];

function fillRect(rgba: Uint8Array, w: number, h: number, x0: number, y0: number, x1: number, y1: number, c: [number, number, number]): void {
  for (let y = Math.max(0, y0); y < Math.min(h, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(w, x1); x++) {
      const i = (y * w + x) * 4;
      rgba[i] = c[0];
      rgba[i + 1] = c[1];
      rgba[i + 2] = c[2];
      rgba[i + 3] = 255;
    }
  }
}

/** Renders the chart: panels side by side, rows of bars, labels on the left. */
export function barChartPng(chart: BarChart): Uint8Array {
  const S = 2; // font scale
  const rowH = GLYPH_H * S + 10;
  const pad = 12;
  const labelW = Math.max(...chart.labels.map((l) => textWidth(l, S))) + pad;
  const barW = 220;
  const valueW = 90;
  const panelW = barW + valueW + pad;
  const titleScale = 3;
  const titleY = pad;
  const noteY = titleY + GLYPH_H * titleScale + 6;
  const panelTitleY = (chart.note ? noteY + GLYPH_H * S + 6 : noteY) + pad;
  const top = panelTitleY + GLYPH_H * S + 8;
  const width = pad + labelW + chart.panels.length * panelW;
  const height = top + chart.labels.length * rowH + pad;
  const rgba = new Uint8Array(width * height * 4).fill(255);
  drawText(rgba, width, height, pad, titleY, chart.title, INK, titleScale);
  if (chart.note) drawText(rgba, width, height, pad, noteY, chart.note, GREY, S);
  const y = panelTitleY;
  chart.labels.forEach((l, r) => drawText(rgba, width, height, pad, top + r * rowH + 3, l, INK, S));
  chart.panels.forEach((p, k) => {
    const x0 = pad + labelW + k * panelW;
    drawText(rgba, width, height, x0, y, p.title, INK, S);
    const finite = p.values.filter(Number.isFinite);
    const max = p.max ?? Math.max(...finite, 1e-12);
    const color = PALETTE[k % PALETTE.length];
    fillRect(rgba, width, height, x0, top - 2, x0 + 1, top + chart.labels.length * rowH, GREY);
    p.values.forEach((v, r) => {
      const yy = top + r * rowH;
      if (Number.isFinite(v)) {
        const len = Math.max(1, Math.round((Math.max(0, v) / max) * barW));
        fillRect(rgba, width, height, x0 + 1, yy + 1, x0 + 1 + len, yy + rowH - 3, color);
        const text = (p.format ?? ((x: number) => x.toPrecision(3)))(v);
        drawText(rgba, width, height, x0 + 6 + len, yy + 3, text, INK, S);
      } else {
        drawText(rgba, width, height, x0 + 6, yy + 3, '-', GREY, S);
      }
    });
  });
  return encodePng(rgba, width, height, 'rgba');
}
