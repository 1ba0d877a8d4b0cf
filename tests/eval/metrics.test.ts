import { describe, expect, it } from 'vitest';
import { binaryMetrics, evaluateLabelMaps, evaluateVolumes, percentile, surfaceVoxels } from '../../src/eval/metrics.js';
import { readNifti } from '../../src/volume/nifti.js';
import { createVolume, diagonalAffine, labelVolumeLike } from '../../src/volume/volume.js';
import { DATA, dataFile } from '../volume/helpers/data-files.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Random blobs: a few ellipsoids and boxes, some touching the grid border. */
function randomShape(dims: number[], rand: () => number): Uint8Array {
  const [nx, ny, nz] = dims;
  const m = new Uint8Array(nx * ny * nz);
  const parts = 1 + Math.floor(rand() * 3);
  for (let p = 0; p < parts; p++) {
    const c = [rand() * nx, rand() * ny, rand() * nz];
    const r = [1 + rand() * nx * 0.4, 1 + rand() * ny * 0.4, 1 + rand() * nz * 0.4];
    const box = rand() < 0.3;
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const q = [(x - c[0]) / r[0], (y - c[1]) / r[1], (z - c[2]) / r[2]];
          const inside = box ? Math.max(...q.map(Math.abs)) <= 1 : q[0] ** 2 + q[1] ** 2 + q[2] ** 2 <= 1;
          if (inside) m[(z * ny + y) * nx + x] = 1;
        }
  }
  return m;
}

/** Reference metrics by brute force (neighbour tests and all-pairs distances). */
function reference(pred: Uint8Array, gt: Uint8Array, dims: number[], spacing: number[], tol: number) {
  const [nx, ny, nz] = dims;
  const at = (m: Uint8Array, x: number, y: number, z: number) =>
    x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz ? m[(z * ny + y) * nx + x] : 0;
  const surface = (m: Uint8Array) => {
    const pts: number[][] = [];
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          if (!at(m, x, y, z)) continue;
          const nb = [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]];
          if (nb.some(([a, b, c]) => !at(m, x + a, y + b, z + c))) pts.push([x, y, z]);
        }
    return pts;
  };
  const dist = (from: number[][], to: number[][]) =>
    from.map((p) => Math.min(...to.map((q) => Math.hypot((p[0] - q[0]) * spacing[0], (p[1] - q[1]) * spacing[1], (p[2] - q[2]) * spacing[2]))));
  let p = 0;
  let g = 0;
  let i = 0;
  for (let v = 0; v < pred.length; v++) {
    p += pred[v];
    g += gt[v];
    i += pred[v] & gt[v];
  }
  const sp = surface(pred);
  const sg = surface(gt);
  const a = dist(sp, sg);
  const b = dist(sg, sp);
  const p95 = (d: number[]) => percentile(Float64Array.from(d), 95);
  const all = [...a, ...b];
  return {
    dice: (2 * i) / (p + g),
    iou: i / (p + g - i),
    nsd: all.filter((d) => d <= tol).length / all.length,
    hd95: Math.max(p95(a), p95(b)),
    hd: Math.max(...all),
    assd: all.reduce((s, d) => s + d, 0) / all.length,
    surfaceCount: sp.length,
  };
}

describe('segmentation metrics', () => {
  it('match brute force on random shapes with anisotropic spacing', () => {
    const rand = rng(2024);
    let checked = 0;
    for (let trial = 0; trial < 30; trial++) {
      const dims = [4 + Math.floor(rand() * 10), 4 + Math.floor(rand() * 10), 3 + Math.floor(rand() * 6)];
      const spacing = [0.5 + rand(), 0.5 + rand(), 1 + rand() * 3];
      const gt = randomShape(dims, rand);
      const pred = rand() < 0.2 ? gt.slice() : randomShape(dims, rand);
      if (!gt.includes(1) || !pred.includes(1)) continue;
      const tol = [1, 2, 3.5][trial % 3];
      const got = binaryMetrics(pred, gt, dims, spacing, { nsdToleranceMm: tol });
      const want = reference(pred, gt, dims, spacing, tol);
      expect(surfaceVoxels(pred, dims).reduce((s, v) => s + v, 0)).toBe(want.surfaceCount);
      for (const key of ['dice', 'iou', 'nsd', 'hd95', 'hd', 'assd'] as const) {
        expect(got[key], `${key} trial ${trial}`).toBeCloseTo(want[key], 9);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('defines the empty cases', () => {
    const dims = [4, 4, 4];
    const empty = new Uint8Array(64);
    const some = new Uint8Array(64);
    some[21] = 1;
    const both = binaryMetrics(empty, empty, dims, [1, 1, 1]);
    expect([both.dice, both.iou, both.nsd, both.empty]).toEqual([1, 1, 1, 'both']);
    expect(both.hd95).toBeNaN();
    const miss = binaryMetrics(empty, some, dims, [1, 1, 1]);
    expect([miss.dice, miss.iou, miss.nsd, miss.hd95, miss.empty]).toEqual([0, 0, 0, Infinity, 'prediction']);
    expect(binaryMetrics(some, empty, dims, [1, 1, 1]).empty).toBe('ground-truth');
    const same = binaryMetrics(some, some, dims, [1, 1, 1]);
    expect([same.dice, same.nsd, same.hd95, same.hd]).toEqual([1, 1, 0, 0]);
  });

  it('per-label evaluation (cropped to each structure) equals whole-grid binary metrics', () => {
    const rand = rng(99);
    const dims = [14, 11, 9];
    const spacing = [0.8, 1.1, 2];
    const gt = new Uint8Array(14 * 11 * 9);
    const pred = new Uint8Array(gt.length);
    for (const label of [1, 2, 7]) {
      randomShape(dims, rand).forEach((v, i) => v && (gt[i] = label));
      randomShape(dims, rand).forEach((v, i) => v && (pred[i] = label));
    }
    pred.forEach((v, i) => v === 7 && (pred[i] = 9)); // label 7 missed, label 9 spurious
    const results = evaluateLabelMaps(pred, gt, dims, spacing, { nsdToleranceMm: 1.5 });
    expect(results.map((r) => r.label)).toEqual([1, 2, 7, 9]);
    for (const r of results) {
      const whole = binaryMetrics(
        pred.map((v) => (v === r.label ? 1 : 0)),
        gt.map((v) => (v === r.label ? 1 : 0)),
        dims,
        spacing,
        { nsdToleranceMm: 1.5 },
      );
      expect(r).toEqual({ label: r.label, ...whole });
    }
    expect(results[2].empty).toBe('prediction');
    expect(results[3].empty).toBe('ground-truth');
    const absent = evaluateLabelMaps(pred, gt, dims, spacing, { labels: [42] })[0];
    expect(absent.empty).toBe('both');
  });

  it('scores AAL against a copy shifted by one voxel (1 mm) along x', () => {
    const aal = readNifti(dataFile(DATA.aal));
    const [nx] = aal.dims;
    const shifted = new Uint8Array(aal.data.length);
    for (let v = 0; v < shifted.length; v++) shifted[v] = v % nx === 0 ? 0 : aal.data[v - 1];
    const t0 = performance.now();
    const results = evaluateVolumes(labelVolumeLike(aal, shifted), aal, { labels: [37, 71, 77, 78], nsdToleranceMm: 1 });
    const ms = performance.now() - t0;
    for (const r of results) {
      expect(r.dice).toBeGreaterThan(0.7);
      expect(r.dice).toBeLessThan(1);
      expect(r.hd95).toBeLessThanOrEqual(1);
      expect(r.hd95).toBeGreaterThan(0);
      expect(r.nsd).toBe(1); // every surface voxel is within 1 mm
    }
    expect(ms).toBeLessThan(5000);
  });

  it('refuses label volumes on a different grid', () => {
    const a = createVolume({ dims: [4, 4, 4], data: new Uint8Array(64) });
    const b = createVolume({ dims: [4, 4, 4], data: new Uint8Array(64), affine: diagonalAffine([1, 1, 1], [2, 0, 0]) });
    expect(() => evaluateVolumes(a, b)).toThrow(/prediction do not match ground truth: same dims but the voxel→world affines differ/);
    const c = createVolume({ dims: [4, 4, 5], data: new Uint8Array(80) });
    expect(() => evaluateVolumes(c, a)).toThrow('prediction do not match ground truth: dims [4, 4, 5] vs [4, 4, 4]');
  });
});
