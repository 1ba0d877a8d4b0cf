import { describe, expect, it } from 'vitest';
import { evaluateLabelMaps } from '../../src/eval/metrics.js';
import { OVERLAY_COLORS, overlayPng, renderOverlay } from '../../src/eval/overlay.js';
import { simulatePrompt } from '../../src/eval/prompts.js';
import { buildReport, parseLabelNames, pickOverlaySlices, reportToJson, reportToMarkdown } from '../../src/eval/report.js';
import { readNifti } from '../../src/volume/nifti.js';
import { extractLabelMask } from '../../src/volume/slicing.js';
import { computeMapping, windowSlice } from '../../src/volume/windowing.js';
import { DATA, dataFile } from '../volume/helpers/data-files.js';
import { decodePng } from './helpers/png-decode.js';

function smallCase() {
  const dims = [6, 5, 4];
  const gt = new Uint8Array(120);
  const pred = new Uint8Array(120);
  for (let v = 0; v < 120; v++) {
    const x = v % 6;
    if (x >= 1 && x <= 3) gt[v] = 1;
    if (x >= 2 && x <= 3) pred[v] = 1;
  }
  gt[119] = 4; // structure the prediction misses
  return { dims, gt, pred, metrics: evaluateLabelMaps(pred, gt, dims, [1, 1, 2], { nsdToleranceMm: 1, labels: [1, 4, 9] }) };
}

describe('report', () => {
  it('parses MRIcron/AAL and ITK-SNAP label name files', () => {
    const aal = parseLabelNames(dataFile(DATA.aalNames).toString());
    expect(aal.size).toBe(116);
    expect(aal.get(77)).toBe('Thalamus_L');
    const snap = parseLabelNames('# ITK-SNAP Label Description File\n    0     0    0    0        0  0  0    "Clear Label"\n    1   255    0    0        1  1  1    "Liver"\n');
    expect(snap.get(1)).toBe('Liver');
    expect(snap.get(0)).toBe('Clear Label');
  });

  it('builds JSON (null for NaN/Infinity, explained by `empty`) and a Markdown table', () => {
    const { metrics } = smallCase();
    const report = buildReport({
      title: 'synthetic | case',
      metrics,
      nsdToleranceMm: 1,
      names: new Map([[1, 'Liver'], [4, 'Spleen']]),
      runs: new Map([[1, { slices: 4, timeMs: 1500 }], [4, { slices: 0, timeMs: 500 }]]),
      image: { name: 'ct.nii.gz', dims: [6, 5, 4], spacing: [1, 1, 2] },
      axis: 'axial',
      meta: { model: 'sam2.1-tiny', device: 'lavapipe' },
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    expect(report.summary.structures).toBe(3);
    expect(report.summary.finiteHd95).toBe(1);
    expect(report.summary.totalTimeMs).toBe(2000);
    expect(report.structures[0].dice).toBeCloseTo(0.8, 12);
    const json = JSON.parse(reportToJson(report));
    expect(json.structures[1]).toMatchObject({ label: 4, name: 'Spleen', dice: 0, hd95: null, empty: 'prediction' });
    expect(json.structures[2]).toMatchObject({ label: 9, dice: 1, hd95: null, empty: 'both' });
    const md = reportToMarkdown(report);
    expect(md).toContain('# synthetic \\| case');
    expect(md).toContain('| Label | Structure | Dice | IoU | NSD | HD95 (mm) | Slices | Time (s) |');
    expect(md).toContain('| 1 | Liver | 0.8000 | 0.6667 |');
    expect(md).toContain('| 4 | Spleen (no prediction) | 0.0000 | 0.0000 | 0.0000 | ∞ | 0 | 0.50 |');
    expect(md).toContain('| 9 |  (both empty) | 1.0000 | 1.0000 | 1.0000 | n/a |');
    expect(md).toMatch(/\| \| \*\*Mean\*\* \(3\) \| 0\.6000 \|/);
    expect(md).toContain('model: sam2.1-tiny');
  });

  it('picks overlay slices spread over the structure, including the key slice', () => {
    const { dims, gt, pred } = smallCase();
    expect(pickOverlaySlices(gt, pred, dims, 'axial', 1, 3)).toEqual([1, 2]);
    expect(pickOverlaySlices(gt, pred, dims, 'sagittal', 1, 3, 2)).toEqual([2, 3]);
    expect(pickOverlaySlices(gt, pred, dims, 'axial', 77, 3)).toEqual([]);
  });

  it('draws prediction fill + outline and ground-truth outline in their colours', () => {
    const w = 8;
    const h = 6;
    const gray = new Uint8Array(w * h).fill(100);
    const gt = new Uint8Array(w * h);
    const pred = new Uint8Array(w * h);
    for (let y = 1; y <= 4; y++) for (let x = 1; x <= 4; x++) pred[y * w + x] = 1;
    for (let y = 0; y <= 5; y++) for (let x = 5; x <= 7; x++) gt[y * w + x] = 1;
    const img = renderOverlay(gray, w, h, [
      { mask: pred, color: OVERLAY_COLORS.prediction, fill: 0.5 },
      { mask: gt, color: OVERLAY_COLORS.groundTruth },
    ], { scale: 2, box: [1, 1, 4, 4], points: [{ x: 6, y: 3, label: 0 }] });
    expect([img.width, img.height]).toEqual([16, 12]);
    const px = (X: number, Y: number) => Array.from(img.rgba.subarray((Y * 16 + X) * 4, (Y * 16 + X) * 4 + 4));
    expect(px(0, 0)).toEqual([100, 100, 100, 255]); // background
    expect(px(5, 5)).toEqual([178, 85, 85, 255]); // prediction interior: 50 % red over gray 100
    expect(px(10, 0)).toEqual([...OVERLAY_COLORS.groundTruth, 255]); // GT outline (top edge)
    expect(px(12, 2)).toEqual([100, 100, 100, 255]); // GT interior not filled
    expect(px(2, 2)).toEqual([...OVERLAY_COLORS.box, 255]); // box corner drawn over the prediction outline
    expect(px(13, 7)).toEqual([...OVERLAY_COLORS.negativeClick, 255]);
  });

  it('renders a real overlay PNG: AAL thalamus on a windowed Colin27 slice', () => {
    const ch2 = readNifti(dataFile(DATA.ch2));
    const aal = readNifti(dataFile(DATA.aal));
    const prompt = simulatePrompt(aal.data, aal.dims, 'axial', 77);
    const gray = windowSlice(ch2.data, ch2.dims, 'axial', prompt.sliceIndex, computeMapping(ch2.data, { kind: 'percentile' }));
    const gt = extractLabelMask(aal.data, aal.dims, 'axial', prompt.sliceIndex, 77);
    const pred = extractLabelMask(aal.data, aal.dims, 'axial', prompt.sliceIndex + 1, 77);
    const png = overlayPng(gray, prompt.width, prompt.height, { prediction: pred, groundTruth: gt }, { box: prompt.box, points: prompt.points });
    const decoded = decodePng(png);
    expect([decoded.width, decoded.height, decoded.colorType]).toEqual([181 * 2, 217 * 2, 6]);
    let green = 0;
    for (let p = 0; p < decoded.pixels.length; p += 4) {
      const [r, g, b] = decoded.pixels.subarray(p, p + 3);
      if (r === OVERLAY_COLORS.groundTruth[0] && g === OVERLAY_COLORS.groundTruth[1] && b === OVERLAY_COLORS.groundTruth[2]) green++;
    }
    expect(green).toBeGreaterThan(50);
  });
});
