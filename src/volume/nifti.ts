// NIfTI-1 / NIfTI-2 single-file (.nii, .nii.gz) reader and a NIfTI-1 writer for label maps.
// Header layouts follow nifti1.h and nifti2.h (NIfTI Data Format Working Group). Works on bytes
// only (no `fs`): Node file helpers live in node-files.ts.
//
// Choices:
// - Affine: sform when sform_code > 0, else qform, else pixdim diagonal (nibabel's order).
// - 4D files with more than one frame (fMRI, DWI, multi-echo) are rejected unless `frame` picks
//   one: silently taking frame 0 would segment an arbitrary time point. A 4th dim of 1 is fine.
// - 2D images (a spatial dim of 1) are rejected: they are not volumes.
// - scl_slope/scl_inter are applied when slope is finite and non-zero (see rescale.ts for types).
// - Spacing is |pixdim[1..3]| converted to mm from xyzt_units (metre/micron are rare but legal);
//   the affine is kept in the file's world units, as nibabel does.

import { gunzipSync, gzipSync } from 'fflate';
import { affineFromNiftiGeometry, quaternToAffine } from './quaternion.js';
import { applyScaling } from './rescale.js';
import {
  affineColumnNorms,
  voxelCount,
  type LabelData,
  type NiftiGeometry,
  type Vec3,
  type Volume,
  type VoxelData,
} from './volume.js';

/** Options of `readNifti`. */
export interface ReadNiftiOptions {
  /** File name, used in error messages. */
  name?: string;
  /** For 4D files: which frame (0-based) to read. Without it a 4D file with > 1 frame is an error. */
  frame?: number;
}

/** Header fields this module uses, read from either NIfTI-1 or NIfTI-2. */
export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  dim: number[];
  datatype: number;
  bitpix: number;
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  description: string;
  intentCode: number;
  geometry: NiftiGeometry;
}

export const NIFTI_TYPE = {
  UINT8: 2,
  INT16: 4,
  INT32: 8,
  FLOAT32: 16,
  FLOAT64: 64,
  INT8: 256,
  UINT16: 512,
  UINT32: 768,
} as const;

const TYPE_INFO: Record<number, { name: string; bytes: number; make: (buf: ArrayBuffer) => VoxelData }> = {
  2: { name: 'uint8', bytes: 1, make: (b) => new Uint8Array(b) },
  4: { name: 'int16', bytes: 2, make: (b) => new Int16Array(b) },
  8: { name: 'int32', bytes: 4, make: (b) => new Int32Array(b) },
  16: { name: 'float32', bytes: 4, make: (b) => new Float32Array(b) },
  64: { name: 'float64', bytes: 8, make: (b) => new Float64Array(b) },
  256: { name: 'int8', bytes: 1, make: (b) => new Int8Array(b) },
  512: { name: 'uint16', bytes: 2, make: (b) => new Uint16Array(b) },
  768: { name: 'uint32', bytes: 4, make: (b) => new Uint32Array(b) },
};

const UNSUPPORTED_TYPES: Record<number, string> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  128: 'RGB24',
  1024: 'int64',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

/** NIFTI_INTENT_LABEL: "each voxel is an index into some set of labels". */
export const NIFTI_INTENT_LABEL = 1002;

/** A plain Uint8Array view (never a Node Buffer, whose slice() shares memory instead of copying). */
function toBytes(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return new Uint8Array(input);
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** gunzip with errors that name the file; fflate's own messages are terse ("unexpected EOF"). */
export function gunzip(bytes: Uint8Array, name = 'input'): Uint8Array {
  let out: Uint8Array;
  try {
    out = gunzipSync(bytes);
  } catch (e) {
    throw new Error(`${name}: gzip data is truncated or corrupt (${(e as Error).message})`);
  }
  // The gzip trailer stores the uncompressed size mod 2^32; a mismatch means a cut-off stream that
  // fflate happened to accept.
  if (bytes.length >= 18) {
    const n = bytes.length;
    const isize = (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) | (bytes[n - 1] << 24)) >>> 0;
    if (isize !== out.length % 2 ** 32) {
      throw new Error(`${name}: gzip data is truncated or corrupt (trailer says ${isize} bytes, got ${out.length})`);
    }
  }
  return out;
}

function readString(bytes: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    const c = bytes[offset + i];
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Parses a NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header. Throws a named error for anything else. */
export function parseNiftiHeader(bytes: Uint8Array, name = 'input'): NiftiHeader {
  if (bytes.length < 348) {
    throw new Error(`${name}: not a NIfTI file (only ${bytes.length} bytes; a NIfTI-1 header alone is 348)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLE = view.getInt32(0, true);
  const sizeBE = view.getInt32(0, false);
  const size = sizeLE === 348 || sizeLE === 540 ? sizeLE : sizeBE === 348 || sizeBE === 540 ? sizeBE : 0;
  if (size === 0) {
    throw new Error(`${name}: not a NIfTI file (sizeof_hdr is ${sizeLE}, expected 348 for NIfTI-1 or 540 for NIfTI-2)`);
  }
  const le = size === sizeLE;
  return size === 348 ? parseNifti1(bytes, view, le, name) : parseNifti2(bytes, view, le, name);
}

function parseNifti1(bytes: Uint8Array, view: DataView, le: boolean, name: string): NiftiHeader {
  const magic = readString(bytes, 344, 4);
  if (magic === 'ni1') {
    throw new Error(`${name}: this is the .hdr of a NIfTI .hdr/.img pair; convert it to a single .nii/.nii.gz file`);
  }
  if (magic !== 'n+1') {
    throw new Error(`${name}: not a NIfTI-1 file (magic is ${JSON.stringify(magic)}, expected "n+1"; an Analyze 7.5 header has no magic)`);
  }
  const i16 = (o: number) => view.getInt16(o, le);
  const f32 = (o: number) => view.getFloat32(o, le);
  const dim = Array.from({ length: 8 }, (_, i) => i16(40 + 2 * i));
  const pixdim = Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i));
  return {
    version: 1,
    littleEndian: le,
    dim,
    datatype: i16(70),
    bitpix: i16(72),
    voxOffset: f32(108),
    sclSlope: f32(112),
    sclInter: f32(116),
    description: readString(bytes, 148, 80),
    intentCode: i16(68),
    geometry: {
      qformCode: i16(252),
      sformCode: i16(254),
      quatern: [f32(256), f32(260), f32(264)],
      qoffset: [f32(268), f32(272), f32(276)],
      pixdim,
      srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c))),
      xyztUnits: bytes[123],
      dimInfo: bytes[39],
    },
  };
}

function parseNifti2(bytes: Uint8Array, view: DataView, le: boolean, name: string): NiftiHeader {
  if (bytes.length < 540) throw new Error(`${name}: truncated NIfTI-2 header (${bytes.length} of 540 bytes)`);
  const magic = readString(bytes, 4, 4);
  if (magic === 'ni2') {
    throw new Error(`${name}: this is the .hdr of a NIfTI-2 .hdr/.img pair; convert it to a single .nii/.nii.gz file`);
  }
  if (magic !== 'n+2') throw new Error(`${name}: not a NIfTI-2 file (magic is ${JSON.stringify(magic)}, expected "n+2")`);
  const i64 = (o: number) => Number(view.getBigInt64(o, le));
  const f64 = (o: number) => view.getFloat64(o, le);
  const i32 = (o: number) => view.getInt32(o, le);
  const dim = Array.from({ length: 8 }, (_, i) => i64(16 + 8 * i));
  const pixdim = Array.from({ length: 8 }, (_, i) => f64(104 + 8 * i));
  return {
    version: 2,
    littleEndian: le,
    dim,
    datatype: view.getInt16(12, le),
    bitpix: view.getInt16(14, le),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    description: readString(bytes, 240, 80),
    intentCode: i32(504),
    geometry: {
      qformCode: i32(344),
      sformCode: i32(348),
      quatern: [f64(352), f64(360), f64(368)],
      qoffset: [f64(376), f64(384), f64(392)],
      pixdim,
      srow: [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f64(400 + 32 * r + 8 * c))),
      xyztUnits: i32(500),
      dimInfo: bytes[524],
    },
  };
}

/** mm per file unit for the spatial bits of xyzt_units (0 = unknown is taken as mm). */
function spatialUnitToMm(xyztUnits: number): number {
  switch (xyztUnits & 0x07) {
    case 1:
      return 1000; // metre
    case 3:
      return 0.001; // micron
    default:
      return 1;
  }
}

/** Reads a .nii or .nii.gz (gzip detected by its magic bytes, not the name). */
export function readNifti(input: ArrayBuffer | ArrayBufferView, options: ReadNiftiOptions = {}): Volume {
  const name = options.name ?? 'input';
  let bytes = toBytes(input);
  if (isGzip(bytes)) bytes = gunzip(bytes, name);
  const h = parseNiftiHeader(bytes, name);
  const warnings: string[] = [];

  const ndim = h.dim[0];
  if (ndim < 1 || ndim > 7) throw new Error(`${name}: invalid NIfTI dim[0] = ${ndim} (must be 1..7)`);
  // Dimensions past dim[0] are unused; some writers leave them 0.
  const size = (d: number) => (d <= ndim && h.dim[d] > 0 ? h.dim[d] : 1);
  const [nx, ny, nz] = [size(1), size(2), size(3)];
  for (const d of [1, 2, 3]) {
    if (d <= ndim && h.dim[d] < 1) throw new Error(`${name}: invalid NIfTI dim[${d}] = ${h.dim[d]}`);
  }
  const spatial: Vec3 = [nx, ny, nz];
  const flat = spatial.map((n, a) => (n === 1 ? 'ijk'[a] : '')).filter(Boolean);
  if (flat.length > 0) {
    throw new Error(
      `${name}: not a volume: the image is ${nx}×${ny}×${nz} (a single voxel along ${flat.join(', ')}); a 3D volume with at least 2 voxels per axis is required`,
    );
  }
  for (let d = 5; d <= 7; d++) {
    if (size(d) > 1) throw new Error(`${name}: ${ndim}D NIfTI images (dim[${d}] = ${h.dim[d]}) are not supported`);
  }
  const frames = size(4);
  let frame = 0;
  if (options.frame !== undefined) {
    if (!Number.isInteger(options.frame) || options.frame < 0 || options.frame >= frames) {
      throw new Error(`${name}: frame ${options.frame} is out of range (the file has ${frames} frame${frames === 1 ? '' : 's'})`);
    }
    frame = options.frame;
  } else if (frames > 1) {
    throw new Error(`${name}: 4D image with ${frames} frames; choose one with the \`frame\` option (0..${frames - 1})`);
  }

  const type = TYPE_INFO[h.datatype];
  if (!type) {
    const known = UNSUPPORTED_TYPES[h.datatype];
    throw new Error(
      `${name}: NIfTI datatype ${h.datatype}${known ? ` (${known})` : ''} is not supported; supported: ${Object.values(TYPE_INFO)
        .map((t) => t.name)
        .join(', ')}`,
    );
  }
  const headerSize = h.version === 1 ? 348 : 540;
  if (!(h.voxOffset >= headerSize) || !Number.isInteger(h.voxOffset)) {
    throw new Error(`${name}: invalid vox_offset ${h.voxOffset} (must be an integer >= ${headerSize})`);
  }
  const nvox = nx * ny * nz;
  const frameBytes = nvox * type.bytes;
  const start = h.voxOffset + frame * frameBytes;
  const needed = h.voxOffset + frames * frameBytes;
  if (bytes.length < needed) {
    throw new Error(
      `${name}: truncated NIfTI file: ${nx}×${ny}×${nz}${frames > 1 ? `×${frames}` : ''} ${type.name} needs ${needed} bytes, the file has ${bytes.length}`,
    );
  }

  const raw = readVoxels(bytes, start, nvox, type, h.littleEndian);
  const slope = h.sclSlope;
  const data = Number.isFinite(slope) && slope !== 0 ? applyScaling(raw, slope, Number.isFinite(h.sclInter) ? h.sclInter : 0) : raw;

  const { affine, from } = affineFromNiftiGeometry(h.geometry);
  if (from === 'pixdim') warnings.push('no qform or sform: using a diagonal affine from pixdim');
  if (h.geometry.sformCode > 0 && h.geometry.qformCode > 0) {
    const q = quaternToAffine(h.geometry.quatern, h.geometry.qoffset, h.geometry.pixdim);
    let diff = 0;
    for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) diff = Math.max(diff, Math.abs(q[r][c] - affine[r][c]));
    if (diff > 1e-3) warnings.push(`qform and sform differ by up to ${diff.toPrecision(3)} (using sform, as nibabel does)`);
  }
  const toMm = spatialUnitToMm(h.geometry.xyztUnits);
  const norms = affineColumnNorms(affine);
  const spacing = [1, 2, 3].map((d, a) => {
    const p = Math.abs(h.geometry.pixdim[d]);
    return (p > 0 && Number.isFinite(p) ? p : norms[a]) * toMm;
  }) as Vec3;

  return {
    dims: spatial,
    spacing,
    data,
    affine,
    nifti: h.geometry,
    source: { format: 'nifti', name: options.name, description: h.description || undefined },
    warnings: warnings.length ? warnings : undefined,
  };
}

function readVoxels(
  bytes: Uint8Array,
  start: number,
  nvox: number,
  type: { bytes: number; make: (buf: ArrayBuffer) => VoxelData },
  littleEndian: boolean,
): VoxelData {
  // A fresh, aligned copy the typed array can view directly.
  const copy = new Uint8Array(nvox * type.bytes);
  copy.set(bytes.subarray(start, start + copy.length));
  if (!littleEndian && type.bytes > 1) {
    for (let p = 0; p < copy.length; p += type.bytes) copy.subarray(p, p + type.bytes).reverse();
  }
  return type.make(copy.buffer);
}

/** Options of `writeNifti` / `writeNiftiLabels`. */
export interface WriteNiftiOptions {
  /** gzip the output (.nii.gz); default true. */
  gzip?: boolean;
  /** Header `descrip` field (ASCII, at most 79 characters are kept). */
  description?: string;
  /** Header intent_code; writeNiftiLabels sets NIFTI_INTENT_LABEL. */
  intentCode?: number;
}

function niftiTypeOf(data: VoxelData): number {
  if (data instanceof Uint8Array) return NIFTI_TYPE.UINT8;
  if (data instanceof Int8Array) return NIFTI_TYPE.INT8;
  if (data instanceof Uint16Array) return NIFTI_TYPE.UINT16;
  if (data instanceof Int16Array) return NIFTI_TYPE.INT16;
  if (data instanceof Uint32Array) return NIFTI_TYPE.UINT32;
  if (data instanceof Int32Array) return NIFTI_TYPE.INT32;
  if (data instanceof Float32Array) return NIFTI_TYPE.FLOAT32;
  return NIFTI_TYPE.FLOAT64;
}

/**
 * Encodes a volume as a little-endian single-file NIfTI-1 (348-byte header, 4 zero extension
 * bytes, data at vox_offset 352). Geometry (qform, sform, pixdim, units, dim_info) is copied from
 * `volume.nifti` verbatim so the output lands on the source grid in any reader.
 */
export function writeNifti(volume: Volume, options: WriteNiftiOptions = {}): Uint8Array {
  const [nx, ny, nz] = volume.dims;
  if (volume.data.length !== voxelCount(volume.dims)) {
    throw new Error(`writeNifti: data has ${volume.data.length} values but dims [${volume.dims.join(', ')}] need ${voxelCount(volume.dims)}`);
  }
  if (Math.max(nx, ny, nz) > 32767) throw new Error(`writeNifti: dims [${volume.dims.join(', ')}] exceed NIfTI-1's 32767 limit`);
  const datatype = niftiTypeOf(volume.data);
  const bytesPer = volume.data.BYTES_PER_ELEMENT;
  const out = new Uint8Array(352 + volume.data.length * bytesPer);
  const v = new DataView(out.buffer);
  const g = volume.nifti;
  v.setInt32(0, 348, true);
  out[38] = 0x72; // 'r' (regular), as nibabel and nifti1_io write
  out[39] = g.dimInfo & 0xff;
  const dim = [3, nx, ny, nz, 1, 1, 1, 1];
  dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(68, options.intentCode ?? 0, true);
  v.setInt16(70, datatype, true);
  v.setInt16(72, bytesPer * 8, true);
  const qfac = g.pixdim[0] < 0 ? -1 : 1;
  const pixdim = [qfac, g.pixdim[1], g.pixdim[2], g.pixdim[3], 1, 1, 1, 1];
  pixdim.forEach((p, i) => v.setFloat32(76 + 4 * i, p, true));
  v.setFloat32(108, 352, true); // vox_offset
  v.setFloat32(112, 1, true); // scl_slope: identity, stated explicitly
  v.setFloat32(116, 0, true); // scl_inter
  out[123] = g.xyztUnits & 0xff;
  const descrip = (options.description ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 79);
  for (let i = 0; i < descrip.length; i++) out[148 + i] = descrip.charCodeAt(i);
  v.setInt16(252, g.qformCode, true);
  v.setInt16(254, g.sformCode, true);
  g.quatern.forEach((q, i) => v.setFloat32(256 + 4 * i, q, true));
  g.qoffset.forEach((q, i) => v.setFloat32(268 + 4 * i, q, true));
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, g.srow[r][c], true);
  out.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0"
  // Bytes 348..351 (extension flag) stay 0: no extensions.
  out.set(new Uint8Array(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength), 352);
  if (!isLittleEndianHost()) {
    for (let p = 352; p < out.length; p += bytesPer) out.subarray(p, p + bytesPer).reverse();
  }
  return options.gzip === false ? out : gzipSync(out, { level: 6, mtime: 0 });
}

/**
 * Encodes a label map (uint8 or uint16, one integer per structure, 0 = background) on the grid of
 * `labels.nifti`. Use labelVolumeLike(source, data) to put predictions on the source's grid.
 */
export function writeNiftiLabels(labels: Volume, options: WriteNiftiOptions = {}): Uint8Array {
  if (!(labels.data instanceof Uint8Array || labels.data instanceof Uint16Array)) {
    throw new Error(`writeNiftiLabels: label data must be a Uint8Array or Uint16Array, got ${labels.data.constructor.name}`);
  }
  return writeNifti(labels, { intentCode: NIFTI_INTENT_LABEL, ...options });
}

/** Picks the smallest label array type for label values up to `maxLabel`. */
export function allocateLabels(length: number, maxLabel: number): LabelData {
  if (maxLabel <= 255) return new Uint8Array(length);
  if (maxLabel <= 65535) return new Uint16Array(length);
  throw new Error(`label value ${maxLabel} does not fit in uint16`);
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}
