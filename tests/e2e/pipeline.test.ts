// The whole pipeline on a real volume with the micro synthetic weights (meaningless masks, real
// code paths): read → reorient + window → box on the key slice → propagate both ways → write
// .nii.gz → read back (geometry must equal the source's) → evaluate; then the eval flow with its
// report files, and the `segment` verb end to end.
//
// Volume: ITK's KmeansTest T1 (128×128×62, 2×2×3 mm, stored LSA) with its skull-strip label
// (6 = brain). Reoriented to LPS it has 62 coronal slices of 128×128; the micro model runs about
// 0.1-0.3 s per slice on lavapipe, so the main run propagates through the whole volume both ways,
// and the eval and CLI runs stop one slice from the key slice (--max-slices 1). The test checks
// the mechanics (both directions, slice placement, geometry), not segmentation quality.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { evaluateVolumes } from '../../src/eval/metrics.js';
import { simulatePrompt } from '../../src/eval/prompts.js';
import { makeConfig } from '../../src/model/config.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { evaluateVolume } from '../../src/pipeline/evaluate-volume.js';
import { readVolumeInput, writeLabelsFile, writeReportFiles } from '../../src/pipeline/node-io.js';
import { orientLike, prepareVolume, toSourceLabels, type PreparedVolume } from '../../src/pipeline/prepare-volume.js';
import { propagationLength, segmentVolume, type PropagationResult } from '../../src/pipeline/segment-volume.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { extractLabelMask, voxelToSlice } from '../../src/volume/slicing.js';
import { checkSameGeometry } from '../../src/volume/validate.js';
import { labelVolumeLike, type Volume } from '../../src/volume/volume.js';
import { writeSyntheticWeights } from '../../weights-tools/synth.js';
import { decodePng } from '../eval/helpers/png-decode.js';
import { getTestGpu } from '../helpers/gpu.js';
import { DATA, dataFile } from '../volume/helpers/data-files.js';

const BRAIN = 6;
const dir = mkdtempSync(join(tmpdir(), 'pipeline-'));
const weightsPath = join(dir, 'micro.safetensors');

/** The NIfTI header fields that place voxels in space (pixdim[4..7] are time/other units). */
function spatialGeometry(v: Volume) {
  const { pixdim, ...rest } = v.nifti;
  return { ...rest, pixdim: pixdim.slice(0, 4) };
}

/** Element-wise equality of big arrays, reporting the first difference (no giant diffs). */
function expectSameValues(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) throw new Error(`${what}: first difference at index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

let gpu: Gpu;
let model: Sam2Model;
let image: Volume;
let labels: Volume;
let prepared: PreparedVolume;

beforeAll(async () => {
  dataFile(DATA.itkT1); // fails with the package to install when the data is missing
  dataFile(DATA.itkLabels);
  await writeSyntheticWeights(makeConfig('micro'), weightsPath);
  gpu = await getTestGpu();
  model = await Sam2Model.load(gpu, readFileSync(weightsPath));
  image = readVolumeInput(DATA.itkT1.path, 'image');
  labels = readVolumeInput(DATA.itkLabels.path, 'labels');
});

afterAll(() => {
  model?.release();
  rmSync(dir, { recursive: true, force: true });
});

describe('volume → masks → file → metrics', () => {
  let result: PropagationResult;
  let key: number;

  it('propagates both ways from a box on the key slice', async () => {
    prepared = prepareVolume(image, { axis: 'coronal' });
    expect(prepared.oriented.dims).toEqual([128, 62, 128]);
    expect([prepared.width, prepared.height, prepared.count]).toEqual([128, 128, 62]);
    expect(prepared.window.name).toBe('mr');
    const gt = orientLike(prepared, labels.data);
    const sim = simulatePrompt(gt, prepared.oriented.dims, 'coronal', BRAIN);
    key = sim.sliceIndex;
    expect(key).toBeGreaterThan(0);
    expect(key).toBeLessThan(61);

    const progress: number[] = [];
    result = await segmentVolume(gpu, model, prepared, [{ label: 1, slice: key, box: sim.box }], {
      direction: 'both',
      onSlice: (done, total) => {
        progress.push(done);
        expect(total).toBe(62);
      },
    });
    expect(result.cancelled).toBe(false);
    // Forward from the key slice to the end and backward from it to slice 0 (the key slice once),
    // interleaved: one slice of each pass in turn, forward first.
    const forward = Array.from({ length: 62 - key }, (_, i) => key + i);
    const backward = Array.from({ length: key }, (_, i) => key - 1 - i);
    const interleaved = Array.from({ length: Math.max(forward.length, backward.length) }, (_, i) => [forward[i], backward[i]]).flat();
    expect(result.slices).toEqual(interleaved.filter((t) => t !== undefined));
    expect(result.slices.length).toBe(propagationLength(62, key, 'both'));
    expect(progress).toEqual(result.slices.map((_, i) => i + 1));
    expect(result.labels).toBeInstanceOf(Uint8Array);
    for (const v of result.labels) if (v !== 0 && v !== 1) throw new Error(`unexpected label ${v}`);
  });

  it('writes a .nii.gz with exactly the source geometry and reads back the same labels', () => {
    const onSource = toSourceLabels(prepared, result.labels);
    const path = join(dir, 'pred.nii.gz');
    writeLabelsFile(path, onSource);
    expect(existsSync(path)).toBe(true);
    const back = readVolumeInput(path, 'prediction');
    expect(back.dims).toEqual(image.dims);
    expect(back.spacing).toEqual(image.spacing);
    expect(back.affine).toEqual(image.affine);
    expect(spatialGeometry(back)).toEqual(spatialGeometry(image));
    checkSameGeometry(image, back, ['image', 'prediction'], 0);
    expectSameValues(back.data, onSource.data, 'read back vs written');
    // Back on the model's grid it is the propagation's output, voxel for voxel.
    expectSameValues(orientLike(prepared, back.data as Uint8Array), result.labels, 'reoriented back vs propagated');
  });

  it('evaluates the written prediction against the ground truth', () => {
    const back = readVolumeInput(join(dir, 'pred.nii.gz'), 'prediction');
    const predBrain = labelVolumeLike(image, Uint8Array.from(back.data, (v) => (v ? BRAIN : 0)));
    const [m] = evaluateVolumes(predBrain, labels, { labels: [BRAIN] });
    // Independent counts.
    let p = 0;
    let g = 0;
    let both = 0;
    for (let v = 0; v < labels.data.length; v++) {
      const a = predBrain.data[v] === BRAIN;
      const b = labels.data[v] === BRAIN;
      p += +a;
      g += +b;
      both += +(a && b);
    }
    expect(m.predVoxels).toBe(p);
    expect(m.gtVoxels).toBe(g);
    expect(m.intersection).toBe(both);
    expect(m.dice).toBeCloseTo((2 * both) / (p + g), 12);
    for (const k of ['dice', 'iou', 'nsd'] as const) {
      expect(Number.isFinite(m[k]), k).toBe(true);
      expect(m[k]).toBeGreaterThanOrEqual(0);
      expect(m[k]).toBeLessThanOrEqual(1);
    }
    // Empty predictions give an infinite HD95 by definition; otherwise a finite distance.
    if (p > 0) expect(Number.isFinite(m.hd95)).toBe(true);
    else expect(m.hd95).toBe(Infinity);
  });
});

describe('eval flow', () => {
  it('evaluates a structure and writes report.json, report.md and overlays', async () => {
    const p = prepared ?? prepareVolume(image, { axis: 'coronal' });
    const gt = orientLike(p, labels.data);
    const r = await evaluateVolume(gpu, model, p, gt, {
      structures: [BRAIN],
      prompt: { kind: 'box' },
      maxSlices: 1,
      overlaysPerStructure: 2,
      names: new Map([[BRAIN, 'brain']]),
      meta: { device: gpu.adapterName },
    });
    expect(r.cancelled).toBe(false);
    expect(r.slices).toBe(3);
    const [s] = r.report.structures;
    expect(s).toMatchObject({ label: BRAIN, name: 'brain', slices: 3 });
    for (const k of ['dice', 'iou', 'nsd'] as const) expect(s[k]).toBeGreaterThanOrEqual(0);
    expect(s.prompt?.box).toHaveLength(4);
    const files = writeReportFiles(join(dir, 'report'), r);
    const json = JSON.parse(readFileSync(join(dir, 'report', 'report.json'), 'utf8'));
    expect(json.structures[0].label).toBe(BRAIN);
    expect(json.meta.prompt).toBe('box');
    expect(readFileSync(join(dir, 'report', 'report.md'), 'utf8')).toMatch(/\| 6 \| brain .*\| 3 \|/);
    expect(r.overlays.length).toBeGreaterThanOrEqual(1);
    expect(r.overlays.some((o) => o.slice === s.keySlice)).toBe(true);
    for (const o of r.overlays) {
      expect(files).toContain(join(dir, 'report', o.file));
      const png = decodePng(readFileSync(join(dir, 'report', o.file)));
      expect([png.width, png.height]).toEqual([256, 256]); // 128×128 drawn at 2×
    }
  });
});

describe('eval prompts: mask and clicks', () => {
  it('a mask prompt reproduces the ground truth on the key slice; clicks start at the centre click', async () => {
    const p = prepared ?? prepareVolume(image, { axis: 'coronal' });
    const gt = orientLike(p, labels.data);
    const dims = p.oriented.dims;
    const sim = simulatePrompt(gt, dims, 'coronal', BRAIN);
    const masked = await evaluateVolume(gpu, model, p, gt, { structures: [BRAIN], prompt: { kind: 'mask' }, maxSlices: 0, overlaysPerStructure: 0 });
    expect(masked.slices).toBe(1);
    expect(masked.report.structures[0].keySlice).toBe(sim.sliceIndex);
    // The mask is used as the key slice's output (upstream _use_mask_as_output): only resampling
    // through the 4F×4F low-res logits separates it from the ground truth.
    const got = extractLabelMask(masked.predicted, dims, 'coronal', sim.sliceIndex, BRAIN);
    let inter = 0;
    let sum = 0;
    for (let i = 0; i < got.length; i++) {
      inter += got[i] & sim.mask[i];
      sum += got[i] + sim.mask[i];
    }
    expect((2 * inter) / sum).toBeGreaterThan(0.95);
    // Every predicted voxel lies on the key slice.
    let total = 0;
    for (let v = 0; v < masked.predicted.length; v++) if (masked.predicted[v]) total++;
    expect(total).toBe(got.reduce((a, b) => a + b, 0));

    const clicked = await evaluateVolume(gpu, model, p, gt, { structures: [BRAIN], prompt: { kind: 'clicks', clicks: 3 }, maxSlices: 0, overlaysPerStructure: 0 });
    const points = clicked.report.structures[0].prompt?.points ?? [];
    expect(points.length).toBeGreaterThanOrEqual(1);
    expect(points.length).toBeLessThanOrEqual(3);
    expect(points[0]).toEqual(sim.points[0]);
    expect(clicked.report.meta?.prompt).toBe('clicks:3');
  });
});

describe('segment verb', () => {
  it('segments, reports slices per second and writes the mask on the source grid', async () => {
    const out = join(dir, 'cli-mask.nii.gz');
    const logs: string[] = [];
    const errs: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a) => void logs.push(a.join(' ')));
    const err = vi.spyOn(console, 'error').mockImplementation((...a) => void errs.push(a.join(' ')));
    let status = -1;
    try {
      status = await main([
        'segment', DATA.itkT1.path, '--weights', weightsPath, '--axis', 'coronal', '--slice', '30',
        '--box', '30,30,90,100', '--points', '60,60,+', '--max-slices', '1', '--out', out, '--quiet',
      ]);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(errs).toEqual([]);
    expect(status).toBe(0);
    expect(logs[0]).toMatch(/^3 slices in \d+\.\d s \(\d+\.\d\d slices\/s\) on \S/);
    expect(logs[1]).toMatch(/^wrote .*cli-mask\.nii\.gz \(label 1: \d+ voxels, label 2: \d+ voxels\)$/);
    const back = readVolumeInput(out, 'mask');
    checkSameGeometry(image, back, ['image', 'mask'], 0);
    expect(spatialGeometry(back)).toEqual(spatialGeometry(image));
    // Labels 1 and 2 only, and only on the three segmented coronal slices 29..31.
    const oriented = orientLike(prepareVolume(image, { axis: 'coronal' }), back.data as Uint8Array);
    const odims = [128, 62, 128];
    for (let v = 0; v < oriented.length; v++) {
      if (!oriented[v]) continue;
      if (oriented[v] > 2) throw new Error(`unexpected label ${oriented[v]}`);
      const { index } = voxelToSlice(odims, 'coronal', v % 128, Math.floor(v / 128) % 62, Math.floor(v / (128 * 62)));
      if (index < 29 || index > 31) throw new Error(`voxel ${v} is labelled on coronal slice ${index}, outside the segmented 29..31`);
    }
    // Nothing left behind but the output itself.
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
