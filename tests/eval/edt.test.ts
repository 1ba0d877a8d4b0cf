import { describe, expect, it } from 'vitest';
import { squaredDistanceTransform } from '../../src/eval/edt.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function bruteForce(target: Uint8Array, dims: number[], spacing: number[]): Float64Array {
  const [nx, ny, nz] = dims;
  const pts: number[][] = [];
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) if (target[(z * ny + y) * nx + x]) pts.push([x, y, z]);
  const out = new Float64Array(nx * ny * nz).fill(Infinity);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        let best = Infinity;
        for (const [px, py, pz] of pts) {
          const d = ((x - px) * spacing[0]) ** 2 + ((y - py) * spacing[1]) ** 2 + ((z - pz) * spacing[2]) ** 2;
          if (d < best) best = d;
        }
        out[(z * ny + y) * nx + x] = best;
      }
  return out;
}

describe('squaredDistanceTransform (Felzenszwalb–Huttenlocher)', () => {
  it('matches brute force on random 3D grids with anisotropic spacing', () => {
    const rand = rng(1);
    for (let trial = 0; trial < 25; trial++) {
      const dims = [1 + Math.floor(rand() * 9), 1 + Math.floor(rand() * 8), 1 + Math.floor(rand() * 7)];
      const spacing = [0.3 + rand() * 2, 0.3 + rand() * 2, 0.3 + rand() * 4];
      const density = [0.01, 0.1, 0.5][trial % 3];
      const target = new Uint8Array(dims[0] * dims[1] * dims[2]).map(() => (rand() < density ? 1 : 0));
      const got = squaredDistanceTransform(target, dims, spacing);
      const want = bruteForce(target, dims, spacing);
      for (let v = 0; v < got.length; v++) {
        if (want[v] === Infinity) expect(got[v]).toBe(Infinity);
        else expect(Math.abs(got[v] - want[v])).toBeLessThan(1e-9 * Math.max(1, want[v]));
      }
    }
  });

  it('handles 2D grids, a single target and no target', () => {
    const dims = [7, 5, 1];
    const one = new Uint8Array(35);
    one[2 * 7 + 3] = 1;
    const d = squaredDistanceTransform(one, dims, [1, 2, 1]);
    expect(d[0]).toBe(3 * 3 + (2 * 2) ** 2);
    expect(d[2 * 7 + 3]).toBe(0);
    expect(Array.from(squaredDistanceTransform(new Uint8Array(35), dims, [1, 1, 1])).every((x) => x === Infinity)).toBe(true);
    expect(() => squaredDistanceTransform(new Uint8Array(3), dims, [1, 1, 1])).toThrow(/mask has 3 values/);
  });
});
