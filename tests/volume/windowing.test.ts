import { describe, expect, it } from 'vitest';
import { readNifti } from '../../src/volume/nifti.js';
import {
  applyMapping,
  computeMapping,
  CT_PRESETS,
  mapToUint8,
  parseWindowSpec,
  percentiles,
  windowSlice,
} from '../../src/volume/windowing.js';
import { extractSlice } from '../../src/volume/slicing.js';
import { DATA, dataFile } from './helpers/data-files.js';

/** numpy.percentile (method='linear') by sorting. */
function refPercentile(values: ArrayLike<number>, p: number, nonZeroOnly = false): number {
  const v = Float64Array.from(Array.from(values).filter((x) => !Number.isNaN(x) && (!nonZeroOnly || x !== 0))).sort();
  const pos = (p / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const t = pos - lo;
  const d = v[hi] - v[lo];
  return t >= 0.5 ? v[hi] - d * (1 - t) : v[lo] + d * t;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('CT presets', () => {
  it('are the documented width/level pairs', () => {
    expect(CT_PRESETS).toEqual({
      abdomen: { width: 400, level: 40 },
      lung: { width: 1500, level: -600 },
      brain: { width: 80, level: 40 },
      mediastinum: { width: 350, level: 50 },
      bone: { width: 1800, level: 400 },
    });
  });

  it.each([
    ['abdomen', -160, 240],
    ['lung', -1350, 150],
    ['brain', 0, 80],
    ['mediastinum', -125, 225],
    ['bone', -500, 1300],
  ] as const)('%s maps its bounds to 0 and 255 and its level to 127 (np.uint8 truncation)', (preset, lower, upper) => {
    const hu = new Int16Array([-2000, lower, CT_PRESETS[preset].level, upper, 3000]);
    const m = computeMapping(hu, { kind: 'ct', preset });
    expect([m.lower, m.upper, m.min, m.max]).toEqual([lower, upper, lower, upper]);
    expect(Array.from(applyMapping(hu, m))).toEqual([0, 0, 127, 255, 255]);
  });

  it('normalises by the min/max of the clipped volume, as MedSAM does', () => {
    // Data inside the window: min-max of the data, not of the window, maps to 0..255.
    const m = computeMapping(new Int16Array([0, 50, 100]), { kind: 'ct', preset: 'abdomen' });
    expect([m.min, m.max]).toEqual([0, 100]);
    expect(mapToUint8(50, m)).toBe(127);
    expect(mapToUint8(100, m)).toBe(255);
    expect(mapToUint8(100.0, computeMapping(new Int16Array([100, 100]), { kind: 'ct', preset: 'abdomen' }))).toBe(0); // constant
    // -40 HU under W400/L40 on [-1024, 3071]: (120 / 400) * 255 = 76.5 → 76.
    expect(mapToUint8(-40, computeMapping(new Int16Array([-1024, 3071]), { kind: 'ct', width: 400, level: 40 }))).toBe(76);
  });
});

describe('percentiles', () => {
  it('match numpy on small known cases', () => {
    expect(percentiles([1, 2, 3, 4], [0.5, 99.5])).toEqual([1.015, 3.985].map((x) => expect.closeTo(x, 12)));
    const hundred = Float32Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentiles(hundred, [0, 50, 99.5, 100])).toEqual([1, 50.5, expect.closeTo(99.505, 12), 100]);
  });

  it('are exact on random integer and float data (histogram path vs sorting)', () => {
    const rand = rng(3);
    const ints = new Int16Array(50000).map(() => Math.floor(rand() * 4000 - 1000));
    const floats = new Float32Array(50000).map(() => (rand() < 0.3 ? 0 : Math.fround((rand() - 0.2) ** 3 * 1e4)));
    const ties = new Float32Array(20000).map(() => Math.fround(Math.floor(rand() * 5) * 0.1));
    for (const data of [ints, floats, ties]) {
      for (const nonZero of [false, true]) {
        const ps = [0, 0.5, 1, 25, 50, 99, 99.5, 100];
        const got = percentiles(data, ps, nonZero);
        ps.forEach((p, n) => expect(got[n], `p${p}`).toBe(refPercentile(data, p, nonZero)));
      }
    }
  });

  it('are exact on a real MR volume and ignore NaN', () => {
    const t1 = readNifti(dataFile(DATA.itkT1));
    expect(percentiles(t1.data, [0.5, 99.5], true)).toEqual([refPercentile(t1.data, 0.5, true), refPercentile(t1.data, 99.5, true)]);
    expect(percentiles(new Float32Array([NaN, 1, 2, NaN, 3]), [50])).toEqual([2]);
    expect(percentiles(new Float32Array([0, 0]), [50], true)).toEqual([NaN]);
  });
});

describe('MR percentile window', () => {
  it('clips at the non-zero 0.5/99.5 percentiles and keeps background at 0', () => {
    const rand = rng(11);
    const mr = new Int16Array(10000).map((_, i) => (i % 4 === 0 ? 0 : 100 + Math.floor(rand() * 900)));
    mr[5] = 30000; // outlier
    const m = computeMapping(mr, { kind: 'percentile' });
    expect(m.lower).toBe(refPercentile(mr, 0.5, true));
    expect(m.upper).toBe(refPercentile(mr, 99.5, true));
    expect(m.keepZero).toBe(true);
    const u8 = applyMapping(mr, m);
    expect(u8[0]).toBe(0);
    expect(u8[5]).toBe(255);
    // Reference formula, voxel by voxel.
    for (let i = 0; i < mr.length; i += 97) {
      const v = mr[i];
      const expected = v === 0 ? 0 : Math.trunc(((Math.min(Math.max(v, m.lower), m.upper) - m.min) / (m.max - m.min)) * 255);
      expect(u8[i]).toBe(expected);
    }
    const all = computeMapping(mr, { kind: 'percentile', nonZeroOnly: false });
    expect(all.lower).toBe(0);
  });

  it('windows a slice of a real volume consistently with the whole volume', () => {
    const t1 = readNifti(dataFile(DATA.itkT1));
    const m = computeMapping(t1.data, parseWindowSpec('mr'));
    const whole = applyMapping(t1.data, m);
    const slice = windowSlice(t1.data, t1.dims, 'axial', 30, m);
    expect(Array.from(slice)).toEqual(Array.from(extractSlice(whole, t1.dims, 'axial', 30)));
    expect(Math.max(...slice)).toBeGreaterThan(200);
  });
});

describe('parseWindowSpec', () => {
  it('accepts presets, mr, minmax and width/level', () => {
    expect(parseWindowSpec('Lung')).toEqual({ kind: 'ct', preset: 'lung' });
    expect(parseWindowSpec('mr')).toEqual({ kind: 'percentile' });
    expect(parseWindowSpec('minmax')).toEqual({ kind: 'minmax' });
    expect(parseWindowSpec('400/40')).toEqual({ kind: 'ct', width: 400, level: 40 });
    expect(parseWindowSpec('W1500/L-600')).toEqual({ kind: 'ct', width: 1500, level: -600 });
    expect(() => parseWindowSpec('liver')).toThrow(/unknown window "liver"; use one of abdomen, lung, brain, mediastinum, bone, mr, minmax/);
    expect(() => parseWindowSpec('0/40')).toThrow(/window width must be > 0/);
  });
});
