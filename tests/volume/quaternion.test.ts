import { describe, expect, it } from 'vitest';
import { affineFromNiftiGeometry, affineToQuatern, niftiGeometryFromAffine, quaternToAffine } from '../../src/volume/quaternion.js';
import type { Mat4 } from '../../src/volume/volume.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Rotation from axis-angle (Rodrigues). */
function rotation(axis: number[], angle: number): number[][] {
  const n = Math.hypot(axis[0], axis[1], axis[2]);
  const [x, y, z] = axis.map((v) => v / n);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  return [
    [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
    [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
    [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
  ];
}

function affineOf(r: number[][], scale: number[], offset: number[]): Mat4 {
  return [
    [r[0][0] * scale[0], r[0][1] * scale[1], r[0][2] * scale[2], offset[0]],
    [r[1][0] * scale[0], r[1][1] * scale[1], r[1][2] * scale[2], offset[1]],
    [r[2][0] * scale[0], r[2][1] * scale[1], r[2][2] * scale[2], offset[2]],
    [0, 0, 0, 1],
  ];
}

function maxDiff(a: Mat4, b: Mat4): number {
  let d = 0;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a[r][c] - b[r][c]));
  return d;
}

describe('qform quaternion <-> affine', () => {
  it('round-trips random rotations, voxel sizes and handedness', () => {
    const rand = rng(7);
    for (let n = 0; n < 200; n++) {
      const r = rotation([rand() - 0.5, rand() - 0.5, rand() - 0.5], rand() * 2 * Math.PI);
      const scale = [0.3 + rand() * 3, 0.3 + rand() * 3, (0.3 + rand() * 5) * (rand() < 0.5 ? -1 : 1)];
      const affine = affineOf(r, scale, [rand() * 200 - 100, rand() * 200 - 100, rand() * 200 - 100]);
      const q = affineToQuatern(affine);
      expect(q.qfac).toBe(scale[2] < 0 ? -1 : 1);
      const back = quaternToAffine(q.quatern, q.qoffset, [q.qfac, ...q.voxelSize]);
      expect(maxDiff(back, affine)).toBeLessThan(1e-9);
    }
  });

  it('handles 180° rotations (a = 0) about each axis and the common flips', () => {
    const flips: Mat4[] = [
      affineOf([[-1, 0, 0], [0, -1, 0], [0, 0, 1]], [0.7, 0.7, 2], [1, 2, 3]), // LPS-stored axial
      affineOf([[1, 0, 0], [0, -1, 0], [0, 0, -1]], [1, 1, 1], [0, 0, 0]),
      affineOf([[-1, 0, 0], [0, 1, 0], [0, 0, -1]], [2, 3, 4], [5, 6, 7]),
      affineOf([[-1, 0, 0], [0, 0, 1], [0, 1, 0]], [2, 2, 3], [0, -254, 0]), // ITK example: LSA, left-handed
    ];
    for (const a of flips) {
      const q = affineToQuatern(a);
      expect(maxDiff(quaternToAffine(q.quatern, q.qoffset, [q.qfac, ...q.voxelSize]), a)).toBeLessThan(1e-12);
    }
  });

  it('replaces a sheared matrix by the closest rigid one in the qform, keeps it exactly in the sform', () => {
    const sheared: Mat4 = [
      [1, 0, 0, 0],
      [0, 1, 0.2, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    const g = niftiGeometryFromAffine(sheared, 1);
    expect(affineFromNiftiGeometry(g).affine).toEqual(sheared);
    const q = quaternToAffine(g.quatern, g.qoffset, g.pixdim);
    // Columns of the qform are orthogonal.
    const col = (c: number) => [q[0][c], q[1][c], q[2][c]];
    const dot = (u: number[], v: number[]) => u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    expect(Math.abs(dot(col(0), col(1))) + Math.abs(dot(col(1), col(2))) + Math.abs(dot(col(0), col(2)))).toBeLessThan(1e-9);
  });
});
