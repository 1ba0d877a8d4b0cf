import { describe, expect, it } from 'vitest';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeValue, preprocessSliceRef, resizeBilinearUint8 } from '../../src/volume/preprocess-ref.js';

/** torch F.interpolate(bilinear, align_corners=False) written out per pixel, then rounded. */
function refResize(src: number[][], outW: number, outH: number): number[][] {
  const h = src.length;
  const w = src[0].length;
  const at = (y: number, x: number) => src[Math.min(h - 1, Math.max(0, y))][Math.min(w - 1, Math.max(0, x))];
  return Array.from({ length: outH }, (_, y) =>
    Array.from({ length: outW }, (_, x) => {
      const fy = Math.max(0, ((y + 0.5) * h) / outH - 0.5);
      const fx = Math.max(0, ((x + 0.5) * w) / outW - 0.5);
      const y0 = Math.floor(fy);
      const x0 = Math.floor(fx);
      const wy = fy - y0;
      const wx = fx - x0;
      const v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1)) + wy * ((1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1));
      return Math.floor(v + 0.5);
    }),
  );
}

describe('model pre-processing reference', () => {
  it('normalises with ImageNet mean/std as two float32 operations', () => {
    for (const [u, c, expected] of [
      [0, 0, -2.117904],
      [255, 0, 2.2489083],
      [0, 2, -1.8044444],
      [255, 2, 2.64],
      [128, 1, 0.2051822],
    ] as const) {
      const v = normalizeValue(u, c);
      expect(v).toBeCloseTo(expected, 5);
      expect(Math.fround(v)).toBe(v);
      // float32 tensors throughout, as torch does with float32 mean/std tensors.
      const f = new Float32Array([u / 255]);
      const mean = new Float32Array(IMAGENET_MEAN);
      const std = new Float32Array(IMAGENET_STD);
      f[0] -= mean[c];
      f[0] /= std[c];
      expect(v).toBe(f[0]);
    }
  });

  it('resizes bilinearly with half-pixel centres like torch (align_corners=False)', () => {
    const src = [
      [0, 100],
      [200, 255],
    ];
    const up = resizeBilinearUint8(new Uint8Array(src.flat()), 2, 2, 4, 4);
    expect(Array.from(up.subarray(0, 8))).toEqual([0, 25, 75, 100, 50, 72, 117, 139]);
    let seed = 5;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (const [w, h, ow, oh] of [
      [7, 5, 16, 16],
      [16, 16, 7, 5],
      [13, 9, 13, 20],
    ]) {
      const img = Array.from({ length: h }, () => Array.from({ length: w }, () => Math.floor(rand() * 256)));
      const got = resizeBilinearUint8(new Uint8Array(img.flat()), w, h, ow, oh);
      expect(Array.from(got)).toEqual(refResize(img, ow, oh).flat());
    }
  });

  it('produces [3, S, S] CHW float32 with gray replicated to RGB', () => {
    const w = 6;
    const h = 4;
    const gray = new Uint8Array(w * h).map((_, i) => i * 10);
    const same = preprocessSliceRef(new Uint8Array(64).fill(9), 8, 8, 8);
    expect(same.length).toBe(3 * 64);
    for (let c = 0; c < 3; c++) expect(same[c * 64 + 17]).toBe(normalizeValue(9, c));
    const out = preprocessSliceRef(gray, w, h, 12);
    const resized = resizeBilinearUint8(gray, w, h, 12, 12);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 144; p += 7) expect(out[c * 144 + p]).toBe(normalizeValue(resized[p], c));
    expect(() => resizeBilinearUint8(gray, 5, 5, 8, 8)).toThrow(/image has 24 values, 5×5 needs 25/);
  });
});
