// NIfTI-1 qform quaternion <-> 4×4 affine, and the choice between qform and sform.
// Follows the maths documented in nifti1.h ("METHOD 2") and nifti1_io.c's
// nifti_quatern_to_mat44 / nifti_mat44_to_quatern (re-derived here, not copied).

import type { Mat4, NiftiGeometry, Vec3 } from './volume.js';

/** qform affine: R(b, c, d) · diag(dx, dy, qfac·dz) plus the qoffset translation. */
export function quaternToAffine(quatern: Vec3, qoffset: Vec3, pixdim: readonly number[]): Mat4 {
  let [b, c, d] = quatern;
  let a2 = 1 - (b * b + c * c + d * d);
  let a: number;
  if (a2 < 1e-7) {
    // The quaternion is (numerically) a 180° rotation: a = 0 and (b, c, d) is renormalised.
    a = 0;
    const n = Math.hypot(b, c, d) || 1;
    b /= n;
    c /= n;
    d /= n;
  } else {
    a = Math.sqrt(a2);
  }
  const size = (p: number) => (p > 0 && Number.isFinite(p) ? p : 1);
  const dx = size(pixdim[1]);
  const dy = size(pixdim[2]);
  const dz = size(pixdim[3]);
  const qfac = pixdim[0] < 0 ? -1 : 1;
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const scale = [dx, dy, qfac * dz];
  return [
    [r[0][0] * scale[0], r[0][1] * scale[1], r[0][2] * scale[2], qoffset[0]],
    [r[1][0] * scale[0], r[1][1] * scale[1], r[1][2] * scale[2], qoffset[1]],
    [r[2][0] * scale[0], r[2][1] * scale[1], r[2][2] * scale[2], qoffset[2]],
    [0, 0, 0, 1],
  ];
}

export interface QformParams {
  quatern: Vec3;
  qoffset: Vec3;
  /** Column lengths (voxel size) of the affine. */
  voxelSize: Vec3;
  /** +1 for a right-handed voxel grid, -1 for a left-handed one (stored in pixdim[0]). */
  qfac: 1 | -1;
}

/**
 * Closest qform representation of an affine. The 3×3 part is split into column lengths and a
 * rotation; non-orthogonal input (sheared, e.g. gantry tilt) is replaced by the nearest orthogonal
 * matrix (polar decomposition), as nifti1_io does, so the qform is an approximation there.
 */
export function affineToQuatern(affine: Mat4): QformParams {
  const cols = [0, 1, 2].map((c) => [affine[0][c], affine[1][c], affine[2][c]]);
  const voxelSize = cols.map((v) => Math.hypot(v[0], v[1], v[2])) as Vec3;
  const unit = cols.map((v, c) => {
    const n = voxelSize[c];
    if (n === 0) {
      // Degenerate column: use the matching unit axis, as nifti1_io does.
      voxelSize[c] = 1;
      return [0, 1, 2].map((r) => (r === c ? 1 : 0));
    }
    return v.map((x) => x / n);
  });
  // m[row][col], columns = unit direction vectors
  let m = [0, 1, 2].map((r) => [unit[0][r], unit[1][r], unit[2][r]]);
  m = polarOrthogonal(m);
  let qfac: 1 | -1 = 1;
  if (det3(m) < 0) {
    qfac = -1;
    for (let r = 0; r < 3; r++) m[r][2] = -m[r][2];
  }
  const quatern = rotationToQuaternion(m);
  return { quatern, qoffset: [affine[0][3], affine[1][3], affine[2][3]], voxelSize, qfac };
}

/**
 * NIfTI geometry describing `affine`: sform = the affine exactly (up to float32 storage), qform = its
 * closest rigid representation, both with `code`.
 */
export function niftiGeometryFromAffine(affine: Mat4, code: number): NiftiGeometry {
  const q = affineToQuatern(affine);
  return {
    qformCode: code,
    sformCode: code,
    quatern: q.quatern,
    qoffset: q.qoffset,
    pixdim: [q.qfac, q.voxelSize[0], q.voxelSize[1], q.voxelSize[2], 0, 0, 0, 0],
    srow: [0, 1, 2].map((r) => [...affine[r]]),
    xyztUnits: 2, // NIFTI_UNITS_MM
    dimInfo: 0,
  };
}

/**
 * Why a voxel→world affine cannot place voxels (NaN/Inf entries, a zero or collinear column), or
 * null when it is usable. Collinear means the 3×3 part's determinant is below 1e-6 of the product
 * of its column lengths (the grid collapses onto a plane).
 */
export function degenerateAffineReason(affine: Mat4): string | null {
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) if (!Number.isFinite(affine[r][c])) return 'has NaN or infinite entries';
  const m = [0, 1, 2].map((r) => [affine[r][0], affine[r][1], affine[r][2]]);
  const norms = [0, 1, 2].map((c) => Math.hypot(m[0][c], m[1][c], m[2][c]));
  if (norms.some((n) => !(n > 0))) return `has a zero column (voxel size ${norms.map((n) => +n.toPrecision(4)).join(' × ')})`;
  if (Math.abs(det3(m)) < 1e-6 * norms[0] * norms[1] * norms[2]) return 'is singular (its axes are collinear)';
  return null;
}

/**
 * Voxel→world affine of a NIfTI header. Order of preference as in nibabel
 * (Nifti1Header.get_best_affine): sform when sform_code > 0, else qform when qform_code > 0, else
 * nifti1.h "METHOD 1" (a diagonal of pixdim with no offset). A degenerate sform or qform (NaN,
 * zero or collinear axes) is skipped with a warning, down to the pixdim diagonal, whose
 * non-finite or non-positive sizes become 1 mm.
 */
export function affineFromNiftiGeometry(g: NiftiGeometry): { affine: Mat4; from: 'sform' | 'qform' | 'pixdim'; warnings: string[] } {
  const warnings: string[] = [];
  if (g.sformCode > 0) {
    const affine = [...g.srow.map((r) => [...r]), [0, 0, 0, 1]];
    const bad = degenerateAffineReason(affine);
    if (!bad) return { affine, from: 'sform', warnings };
    warnings.push(`the sform ${bad}: ignored (${g.qformCode > 0 ? 'trying the qform' : 'using pixdim'})`);
  }
  if (g.qformCode > 0) {
    const quaternOk = g.quatern.every((q) => Number.isFinite(q)) && g.qoffset.every((q) => Number.isFinite(q));
    const affine = quaternToAffine(g.quatern, g.qoffset, g.pixdim);
    const bad = quaternOk ? degenerateAffineReason(affine) : 'has NaN or infinite quaternion or offset';
    if (!bad) return { affine, from: 'qform', warnings };
    warnings.push(`the qform ${bad}: ignored (using pixdim)`);
  }
  const d = [1, 2, 3].map((i) => (g.pixdim[i] > 0 && Number.isFinite(g.pixdim[i]) ? g.pixdim[i] : 1));
  return {
    affine: [
      [d[0], 0, 0, 0],
      [0, d[1], 0, 0],
      [0, 0, d[2], 0],
      [0, 0, 0, 1],
    ],
    from: 'pixdim',
    warnings,
  };
}

function det3(m: number[][]): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

function inverseTranspose3(m: number[][]): number[][] {
  const det = det3(m);
  // cofactor matrix / det = (m^-1)^T
  const c = [
    [m[1][1] * m[2][2] - m[1][2] * m[2][1], m[1][2] * m[2][0] - m[1][0] * m[2][2], m[1][0] * m[2][1] - m[1][1] * m[2][0]],
    [m[0][2] * m[2][1] - m[0][1] * m[2][2], m[0][0] * m[2][2] - m[0][2] * m[2][0], m[0][1] * m[2][0] - m[0][0] * m[2][1]],
    [m[0][1] * m[1][2] - m[0][2] * m[1][1], m[0][2] * m[1][0] - m[0][0] * m[1][2], m[0][0] * m[1][1] - m[0][1] * m[1][0]],
  ];
  return c.map((row) => row.map((x) => x / det));
}

/** Orthogonal factor of the polar decomposition, by the Newton iteration X ← (X + X^-T) / 2. */
function polarOrthogonal(m: number[][]): number[][] {
  let x = m.map((r) => [...r]);
  if (Math.abs(det3(x)) < 1e-12) return x; // singular: leave as is (caller's columns are unit)
  for (let iter = 0; iter < 50; iter++) {
    const it = inverseTranspose3(x);
    let change = 0;
    const next = x.map((row, r) =>
      row.map((v, c) => {
        const n = 0.5 * (v + it[r][c]);
        change = Math.max(change, Math.abs(n - v));
        return n;
      }),
    );
    x = next;
    if (change < 1e-15) break;
  }
  return x;
}

/** Unit quaternion (b, c, d) with a >= 0 of a proper rotation matrix. */
function rotationToQuaternion(r: number[][]): Vec3 {
  const trace = r[0][0] + r[1][1] + r[2][2];
  let a: number, b: number, c: number, d: number;
  if (trace > -0.5) {
    a = 0.5 * Math.sqrt(1 + trace);
    b = (0.25 * (r[2][1] - r[1][2])) / a;
    c = (0.25 * (r[0][2] - r[2][0])) / a;
    d = (0.25 * (r[1][0] - r[0][1])) / a;
  } else {
    // Near-180° rotations: start from the largest diagonal component for stability.
    const xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
    const yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
    const zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd >= yd && xd >= zd) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r[0][1] + r[1][0])) / b;
      d = (0.25 * (r[0][2] + r[2][0])) / b;
      a = (0.25 * (r[2][1] - r[1][2])) / b;
    } else if (yd >= zd) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r[0][1] + r[1][0])) / c;
      d = (0.25 * (r[1][2] + r[2][1])) / c;
      a = (0.25 * (r[0][2] - r[2][0])) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r[0][2] + r[2][0])) / d;
      c = (0.25 * (r[1][2] + r[2][1])) / d;
      a = (0.25 * (r[1][0] - r[0][1])) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return [b, c, d];
}
