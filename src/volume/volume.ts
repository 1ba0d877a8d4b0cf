// A 3D medical volume in memory: voxel grid, voxel→world affine and the NIfTI geometry fields
// needed to write a label map back on exactly the same grid.
//
// Conventions used by every module under src/volume and src/eval:
// - Voxel (i, j, k) is stored at data[i + nx * (j + ny * k)] (NIfTI / DICOM frame order: i fastest).
// - `affine` maps voxel indices (i, j, k, 1) to world millimetres in RAS+ (x grows to the patient's
//   Right, y to Anterior, z to Superior), as NIfTI's qform/sform do. DICOM's LPS+ is converted.
// - `affine` is row-major: affine[row][col], last row [0, 0, 0, 1].

import { niftiGeometryFromAffine } from './quaternion.js';

/** Voxel values of a volume: any integer or float typed array, i fastest (see the conventions above). */
export type VoxelData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** Label maps: one integer value per structure, 0 = background. */
export type LabelData = Uint8Array | Uint16Array;

/** Three numbers: a voxel index, a size along (i, j, k), or a point in mm. */
export type Vec3 = [number, number, number];
/** A 4×4 matrix, row-major (`m[row][col]`). */
export type Mat4 = number[][];

/** NIfTI-1 spatial transform codes (nifti1.h NIFTI_XFORM_*). */
export const XFORM_UNKNOWN = 0;
export const XFORM_SCANNER_ANAT = 1;
export const XFORM_ALIGNED_ANAT = 2;
export const XFORM_TALAIRACH = 3;
export const XFORM_MNI_152 = 4;

/**
 * The geometry part of a NIfTI header, kept verbatim (as read) so a mask written with it opens
 * on the same grid in 3D Slicer, ITK-SNAP and nibabel, whichever of qform/sform they prefer.
 */
export interface NiftiGeometry {
  /** qform_code (NIFTI_XFORM_*). */
  qformCode: number;
  /** sform_code (NIFTI_XFORM_*). */
  sformCode: number;
  /** quatern_b, quatern_c, quatern_d */
  quatern: Vec3;
  /** qoffset_x, qoffset_y, qoffset_z */
  qoffset: Vec3;
  /** pixdim[0..7]; pixdim[0] is qfac (±1), pixdim[1..3] the voxel size in the file's units. */
  pixdim: number[];
  /** srow_x, srow_y, srow_z (3 rows of 4). */
  srow: number[][];
  /** xyzt_units byte: spatial units in bits 0-2 (2 = mm), temporal units in bits 3-5. */
  xyztUnits: number;
  /** dim_info byte (frequency/phase/slice dimension bits); copied to written masks. */
  dimInfo: number;
}

/**
 * A 3-D volume in memory: voxels, voxel size, voxel → world affine (RAS+ mm) and the NIfTI
 * geometry to write label maps back on the same grid. `readNifti` / `readDicomSeries` make one.
 */
export interface Volume {
  /** [nx, ny, nz] */
  dims: Vec3;
  /** Voxel size in millimetres along i, j, k. */
  spacing: Vec3;
  /** Original dtype when no intensity scaling applies, else Int16/Int32/Float32 (see rescale.ts). */
  data: VoxelData;
  /** Voxel → world (RAS+, mm) 4×4, row-major. */
  affine: Mat4;
  /** Geometry to copy into written masks (from the source NIfTI, or derived from `affine`). */
  nifti: NiftiGeometry;
  /** Where the volume came from, for messages and reports. */
  source?: { format: 'nifti' | 'dicom' | 'memory'; name?: string; description?: string; modality?: string };
  /** Non-fatal oddities noticed while reading (e.g. qform and sform disagree). */
  warnings?: string[];
}

/** nx · ny · nz. */
export function voxelCount(dims: readonly number[]): number {
  return dims[0] * dims[1] * dims[2];
}

export function voxelIndex(dims: readonly number[], i: number, j: number, k: number): number {
  return i + dims[0] * (j + dims[1] * k);
}

export function identityMat4(): Mat4 {
  return [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
}

export function mat4Multiply(a: Mat4, b: Mat4): Mat4 {
  const out: Mat4 = [];
  for (let r = 0; r < 4; r++) {
    out.push([0, 0, 0, 0]);
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let t = 0; t < 4; t++) s += a[r][t] * b[t][c];
      out[r][c] = s;
    }
  }
  return out;
}

/** World position of the centre of voxel (i, j, k). */
export function voxelToWorld(affine: Mat4, i: number, j: number, k: number): Vec3 {
  return [0, 1, 2].map((r) => affine[r][0] * i + affine[r][1] * j + affine[r][2] * k + affine[r][3]) as Vec3;
}

/** Length of each affine column: the world-space voxel size along i, j, k. */
export function affineColumnNorms(affine: Mat4): Vec3 {
  return [0, 1, 2].map((c) => Math.hypot(affine[0][c], affine[1][c], affine[2][c])) as Vec3;
}

/** Diagonal affine for volumes built in memory (no orientation known). */
export function diagonalAffine(spacing: Vec3, origin: Vec3 = [0, 0, 0]): Mat4 {
  return [
    [spacing[0], 0, 0, origin[0]],
    [0, spacing[1], 0, origin[1]],
    [0, 0, spacing[2], origin[2]],
    [0, 0, 0, 1],
  ];
}

/**
 * Builds a Volume from raw parts, checking that the data length matches the grid. The NIfTI
 * geometry is derived from the affine (sform and qform both set, code SCANNER_ANAT by default).
 */
export function createVolume(args: {
  dims: Vec3;
  data: VoxelData;
  spacing?: Vec3;
  affine?: Mat4;
  xformCode?: number;
  name?: string;
}): Volume {
  const { dims, data } = args;
  for (const n of dims) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`createVolume: dims must be positive integers, got [${dims.join(', ')}]`);
  }
  if (data.length !== voxelCount(dims)) {
    throw new Error(`createVolume: data has ${data.length} values but dims [${dims.join(', ')}] need ${voxelCount(dims)}`);
  }
  const affine = args.affine ?? diagonalAffine(args.spacing ?? [1, 1, 1]);
  const spacing = args.spacing ?? affineColumnNorms(affine);
  return {
    dims: [...dims] as Vec3,
    spacing: [...spacing] as Vec3,
    data,
    affine,
    nifti: niftiGeometryFromAffine(affine, args.xformCode ?? XFORM_SCANNER_ANAT),
    source: { format: 'memory', name: args.name },
  };
}

/** A label volume on the same grid (same dims, affine and NIfTI geometry) as `reference`. */
export function labelVolumeLike(reference: Volume, labels: LabelData): Volume {
  if (labels.length !== voxelCount(reference.dims)) {
    throw new Error(
      `labelVolumeLike: label data has ${labels.length} values but the reference grid [${reference.dims.join(', ')}] has ${voxelCount(reference.dims)}`,
    );
  }
  return {
    dims: [...reference.dims] as Vec3,
    spacing: [...reference.spacing] as Vec3,
    data: labels,
    affine: reference.affine.map((row) => [...row]),
    nifti: cloneNiftiGeometry(reference.nifti),
    source: { format: 'memory', name: reference.source?.name },
  };
}

export function cloneNiftiGeometry(g: NiftiGeometry): NiftiGeometry {
  return {
    qformCode: g.qformCode,
    sformCode: g.sformCode,
    quatern: [...g.quatern] as Vec3,
    qoffset: [...g.qoffset] as Vec3,
    pixdim: [...g.pixdim],
    srow: g.srow.map((r) => [...r]),
    xyztUnits: g.xyztUnits,
    dimInfo: g.dimInfo,
  };
}

/**
 * Anatomical direction each voxel axis points to, e.g. ['L', 'P', 'S'] for DICOM-ordered data or
 * ['R', 'A', 'S'] for RAS-ordered NIfTI (nibabel's aff2axcodes). Picks the dominant world axis of
 * each affine column; for oblique data that is the closest one.
 */
export function axisCodes(affine: Mat4): [string, string, string] {
  const positive = ['R', 'A', 'S'];
  const negative = ['L', 'P', 'I'];
  const used = new Set<number>();
  const codes: string[] = [];
  // Assign the most clear-cut columns first so two columns never claim the same world axis.
  const order = [0, 1, 2].sort((a, b) => dominance(affine, b) - dominance(affine, a));
  const byColumn: string[] = ['', '', ''];
  for (const c of order) {
    let best = -1;
    for (let r = 0; r < 3; r++) {
      if (used.has(r)) continue;
      if (best < 0 || Math.abs(affine[r][c]) > Math.abs(affine[best][c])) best = r;
    }
    used.add(best);
    byColumn[c] = affine[best][c] >= 0 ? positive[best] : negative[best];
  }
  codes.push(...byColumn);
  return codes as [string, string, string];
}

function dominance(affine: Mat4, c: number): number {
  const v = [0, 1, 2].map((r) => Math.abs(affine[r][c]));
  const n = Math.hypot(v[0], v[1], v[2]) || 1;
  return Math.max(...v) / n;
}
