import { describe, expect, it } from 'vitest';
import {
  boxFromMask,
  centerClick,
  correctiveClick,
  distanceToBoundary,
  findKeySlice,
  seededRandom,
  simulatePrompt,
  sliceAreas,
} from '../../src/eval/prompts.js';
import { readNifti } from '../../src/volume/nifti.js';
import { extractLabelMask, sliceToVoxel } from '../../src/volume/slicing.js';
import { checkBox, checkPoints } from '../../src/volume/validate.js';
import { voxelIndex } from '../../src/volume/volume.js';
import { DATA, dataFile } from '../volume/helpers/data-files.js';

/** Distance to the nearest pixel outside the region, the frame around the image counting as outside. */
function bruteDistance(region: Uint8Array, w: number, h: number): Float64Array {
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!region[y * w + x]) continue;
      let best = Infinity;
      for (let v = -1; v <= h; v++)
        for (let u = -1; u <= w; u++) {
          const outside = u < 0 || v < 0 || u >= w || v >= h || !region[v * w + u];
          if (outside) best = Math.min(best, Math.hypot(u - x, v - y));
        }
      out[y * w + x] = best;
    }
  return out;
}

function rect(w: number, h: number, x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * w + x] = 1;
  return m;
}

describe('prompt simulation', () => {
  it('finds the key slice with the largest area, ties broken towards the middle', () => {
    const dims = [4, 3, 6];
    const labels = new Uint8Array(72);
    const put = (k: number, n: number) => {
      for (let p = 0; p < n; p++) labels[k * 12 + p] = 2;
    };
    put(1, 5);
    put(2, 7);
    put(3, 3);
    put(4, 7);
    expect(Array.from(sliceAreas(labels, dims, 'axial', 2))).toEqual([0, 5, 7, 3, 7, 0]);
    // Range 1..4, middle 2.5: slices 2 and 4 tie at 7; 2 is nearer.
    expect(findKeySlice(labels, dims, 'axial', 2)).toEqual({ index: 2, area: 7, range: [1, 4] });
    expect(() => findKeySlice(labels, dims, 'axial', 3)).toThrow('label 3 does not occur in the volume');
  });

  it('makes a tight box and a reproducible jittered one clamped to the image', () => {
    const m = rect(20, 10, 3, 2, 8, 6);
    expect(boxFromMask(m, 20, 10)).toEqual([3, 2, 8, 6]);
    const a = boxFromMask(m, 20, 10, 5, seededRandom(42));
    const b = boxFromMask(m, 20, 10, 5, seededRandom(42));
    expect(a).toEqual(b);
    const shift = 3 - a[0];
    expect(shift).toBeGreaterThanOrEqual(0);
    expect(shift).toBeLessThanOrEqual(3); // clamped at x = 0
    expect(a[2]).toBe(Math.min(19, 8 + (a[3] - 6)));
    const far = rect(40, 40, 10, 10, 18, 20); // far from the border: no clamping
    const shifts = new Set(Array.from({ length: 200 }, (_, s) => 10 - boxFromMask(far, 40, 40, 4, seededRandom(s))[0]));
    expect([...shifts].sort()).toEqual([0, 1, 2, 3, 4]); // every shift in [0, jitter] occurs, nothing else
    expect(() => boxFromMask(new Uint8Array(200), 20, 10)).toThrow(/empty mask/);
  });

  it('puts the first click at the maximum of the padded in-slice EDT', () => {
    let seed = 9;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 10; trial++) {
      const w = 8 + Math.floor(rand() * 10);
      const h = 6 + Math.floor(rand() * 10);
      const m = new Uint8Array(w * h);
      const cx = rand() * w;
      const cy = rand() * h;
      const r = 2 + rand() * 5;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + ((y - cy) * 1.5) ** 2 < r * r) m[y * w + x] = 1;
      if (!m.includes(1)) continue;
      const ref = bruteDistance(m, w, h);
      const got = distanceToBoundary(m, w, h);
      for (let p = 0; p < w * h; p++) expect(got[p]).toBeCloseTo(ref[p], 9);
      const click = centerClick(m, w, h);
      const best = ref.reduce((b, v, p) => (v > ref[b] ? p : b), 0); // first maximum in row-major order
      expect(click).toEqual({ x: best % w, y: Math.floor(best / w), label: 1 });
    }
    // A rectangle touching the image border: the border counts as background.
    expect(centerClick(rect(10, 5, 0, 0, 4, 4), 10, 5)).toEqual({ x: 2, y: 2, label: 1 });
  });

  it('places corrective clicks in the larger error region, never twice at the same pixel', () => {
    const w = 30;
    const h = 20;
    const gt = rect(w, h, 5, 5, 20, 14);
    const under = rect(w, h, 5, 5, 10, 14); // misses x 11..20: positive click there
    const c1 = correctiveClick(gt, under, w, h)!;
    expect(c1.label).toBe(1);
    expect(gt[c1.y * w + c1.x] && !under[c1.y * w + c1.x]).toBeTruthy();
    const over = rect(w, h, 2, 2, 27, 17); // spills around the GT: negative click
    const c2 = correctiveClick(gt, over, w, h)!;
    expect(c2.label).toBe(0);
    expect(!gt[c2.y * w + c2.x] && over[c2.y * w + c2.x]).toBeTruthy();
    const c3 = correctiveClick(gt, under, w, h, [c1])!;
    expect(c3).not.toEqual(c1);
    expect(correctiveClick(gt, gt, w, h)).toBeNull();
  });

  it('simulates box and click prompts for AAL structures on real slices', () => {
    const aal = readNifti(dataFile(DATA.aal));
    for (const [label, axis] of [
      [77, 'axial'],
      [37, 'coronal'],
      [71, 'sagittal'],
    ] as const) {
      const p = simulatePrompt(aal.data, aal.dims, axis, label, { jitter: 5, seed: 1 });
      expect(p.sliceIndex).toBeGreaterThanOrEqual(p.range[0]);
      expect(p.sliceIndex).toBeLessThanOrEqual(p.range[1]);
      expect(Array.from(p.mask)).toEqual(Array.from(extractLabelMask(aal.data, aal.dims, axis, p.sliceIndex, label)));
      checkBox(p.box, p.width, p.height);
      checkPoints(p.points, p.width, p.height);
      const tight = boxFromMask(p.mask, p.width, p.height);
      expect(p.box[0]).toBeLessThanOrEqual(tight[0]);
      expect(p.box[2]).toBeGreaterThanOrEqual(tight[2]);
      // The click is inside the structure in 3D.
      const [i, j, k] = sliceToVoxel(aal.dims, axis, p.sliceIndex, p.points[0].x, p.points[0].y);
      expect(aal.data[voxelIndex(aal.dims, i, j, k)]).toBe(label);
      expect(simulatePrompt(aal.data, aal.dims, axis, label, { jitter: 5, seed: 1 })).toEqual(p);
    }
  });
});
