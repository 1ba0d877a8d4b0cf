// DICOM series (one file per slice, uncompressed) → Volume, using dicom-parser for the data sets.
// Geometry follows DICOM PS3.3 C.7.6.2 (Image Plane Module):
// - column index i runs along the row direction cosine (ImageOrientationPatient[0..2]) with step
//   PixelSpacing[1]; row index j along the column cosine (IOP[3..5]) with step PixelSpacing[0];
// - slices are sorted by ImagePositionPatient projected on the normal row × column, and the slice
//   step is the mean position step (gantry tilt gives a sheared affine, reported as a warning);
// - patient coordinates are LPS+; the affine is converted to RAS+ (negate x and y) like NIfTI.
// Pixel values get RescaleSlope/RescaleIntercept (per slice); see rescale.ts for the output type.
// No `fs` here: node-files.ts reads folders.

import * as dicomParserModule from 'dicom-parser';
import { inflateSync } from 'fflate';
import { niftiGeometryFromAffine } from './quaternion.js';
import { allocateScaled, chooseScaledType, scaleInto, type ScaledPart } from './rescale.js';
import { XFORM_SCANNER_ANAT, type Mat4, type Vec3, type Volume, type VoxelData } from './volume.js';

// dicom-parser ships a UMD bundle: Node's ESM loader exposes it as `default`, bundlers may not.
const dicomParser: typeof dicomParserModule =
  (dicomParserModule as unknown as { default?: typeof dicomParserModule }).default ?? dicomParserModule;

/** A file's name and bytes (DICOM input from a folder, a file picker or a drop). */
export interface NamedBuffer {
  /** File name (used to group series and in messages). */
  name: string;
  /** The file's bytes. */
  data: ArrayBuffer | ArrayBufferView;
}

const UNCOMPRESSED: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
};

const COMPRESSED: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, First-Order Prediction (Process 14, SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless Only',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Lossless Only',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 Lossless Only',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL Lossless Only',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

const TAG = {
  transferSyntax: 'x00020010',
  sopClass: 'x00080016',
  modality: 'x00080060',
  seriesDescription: 'x0008103e',
  seriesUid: 'x0020000e',
  instanceNumber: 'x00200013',
  position: 'x00200032',
  orientation: 'x00200037',
  samplesPerPixel: 'x00280002',
  photometric: 'x00280004',
  numberOfFrames: 'x00280008',
  rows: 'x00280010',
  columns: 'x00280011',
  pixelSpacing: 'x00280030',
  bitsAllocated: 'x00280100',
  bitsStored: 'x00280101',
  pixelRepresentation: 'x00280103',
  rescaleIntercept: 'x00281052',
  rescaleSlope: 'x00281053',
  pixelData: 'x7fe00010',
} as const;

/** Header of one single-frame DICOM image plus where its pixels are. */
export interface DicomSlice {
  /** File name. */
  name: string;
  /** SeriesInstanceUID. */
  seriesUid: string;
  /** SeriesDescription. */
  seriesDescription?: string;
  /** Modality (CT, MR, ...). */
  modality?: string;
  /** InstanceNumber. */
  instanceNumber?: number;
  /** TransferSyntaxUID (little/big endian, deflated; compressed syntaxes are rejected). */
  transferSyntax: string;
  /** Rows (image height). */
  rows: number;
  /** Columns (image width). */
  columns: number;
  /** ImagePositionPatient (LPS, mm) of the first transmitted pixel's centre. */
  position: Vec3;
  /** ImageOrientationPatient: row cosine then column cosine (LPS). */
  orientation: number[];
  /** PixelSpacing: [between rows, between columns] (mm). */
  pixelSpacing: [number, number];
  /** BitsAllocated (8, 16 or 32). */
  bitsAllocated: number;
  /** BitsStored. */
  bitsStored: number;
  /** PixelRepresentation 1: signed integers. */
  signed: boolean;
  /** PhotometricInterpretation (MONOCHROME1 / MONOCHROME2). */
  photometric: string;
  /** RescaleSlope (1 when absent). */
  slope: number;
  /** RescaleIntercept (0 when absent). */
  intercept: number;
  /** Byte order of the pixel data. */
  littleEndian: boolean;
  /** Pixel bytes (a view of the file's bytes, or of the inflated copy for deflated files). */
  pixelBytes: Uint8Array;
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'exception' in e) return String((e as { exception: unknown }).exception);
  return String(e);
}

/** A plain Uint8Array view (never a Node Buffer, whose slice() shares memory instead of copying). */
function toBytes(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return new Uint8Array(input);
}

/** True when the bytes carry the DICOM Part 10 preamble marker "DICM" at offset 128. */
export function hasDicomMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

function numbers(ds: dicomParserModule.DataSet, tag: string): number[] | undefined {
  const s = ds.string(tag);
  if (s === undefined) return undefined;
  const v = s.split('\\').map((x) => Number(x.trim()));
  return v.every((x) => Number.isFinite(x)) ? v : undefined;
}

/** Parses one DICOM Part 10 file and checks it is an uncompressed single-frame grayscale image. */
export function parseDicomSlice(file: NamedBuffer): DicomSlice {
  const name = file.name;
  const bytes = toBytes(file.data);
  if (!hasDicomMagic(bytes)) {
    throw new Error(`${name}: not a DICOM file (no "DICM" marker at byte 128${bytes.length < 132 ? `; the file has only ${bytes.length} bytes` : ''})`);
  }
  let ds: dicomParserModule.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, {
      inflater: (array: Uint8Array, position: number) => {
        // Deflated transfer syntax: raw DEFLATE after the file meta group.
        const inflated = inflateSync(array.subarray(position));
        const full = new Uint8Array(position + inflated.length);
        full.set(array.subarray(0, position), 0);
        full.set(inflated, position);
        return full;
      },
    } as dicomParserModule.ParseDicomOptions);
  } catch (e) {
    const msg = describeError(e);
    const truncated = /past end|end of buffer|overrun|truncat|beyond|greater than or equal to 'byteArray' length/i.test(msg);
    throw new Error(`${name}: ${truncated ? 'truncated DICOM file' : 'cannot parse DICOM file'} (${msg})`);
  }

  const syntax = (ds.string(TAG.transferSyntax) ?? '1.2.840.10008.1.2').replace(/\0/g, '').trim();
  if (!(syntax in UNCOMPRESSED)) {
    const known = COMPRESSED[syntax];
    throw new Error(
      `${name}: transfer syntax ${syntax}${known ? ` (${known})` : ''} is not supported: only uncompressed (implicit/explicit VR little endian, explicit big endian, deflated) DICOM can be read; decompress the series first (e.g. \`gdcmconv --raw\` or \`dcmdjpeg\`)`,
    );
  }
  const pixel = ds.elements[TAG.pixelData];
  if (!pixel) {
    throw new Error(`${name}: missing pixel data (7FE0,0010); SOP class ${ds.string(TAG.sopClass) ?? 'unknown'} is not an image`);
  }
  if (pixel.dataOffset + pixel.length > ds.byteArray.length) {
    throw new Error(
      `${name}: truncated DICOM file: pixel data needs ${pixel.length} bytes at offset ${pixel.dataOffset}, only ${ds.byteArray.length - pixel.dataOffset} present`,
    );
  }
  const frames = ds.intString(TAG.numberOfFrames) ?? 1;
  if (frames > 1) throw new Error(`${name}: multi-frame DICOM (${frames} frames, e.g. Enhanced CT/MR) is not supported; export one file per slice`);
  const samples = ds.uint16(TAG.samplesPerPixel) ?? 1;
  const photometric = (ds.string(TAG.photometric) ?? 'MONOCHROME2').trim();
  if (samples !== 1) throw new Error(`${name}: color images (${samples} samples per pixel, ${photometric}) are not supported`);

  const rows = ds.uint16(TAG.rows);
  const columns = ds.uint16(TAG.columns);
  const bitsAllocated = ds.uint16(TAG.bitsAllocated);
  if (!rows || !columns || !bitsAllocated) throw new Error(`${name}: missing Rows, Columns or BitsAllocated`);
  if (![8, 16, 32].includes(bitsAllocated)) throw new Error(`${name}: BitsAllocated ${bitsAllocated} is not supported (8, 16 or 32)`);
  const bitsStored = ds.uint16(TAG.bitsStored) ?? bitsAllocated;
  const frameBytes = rows * columns * (bitsAllocated / 8);
  if (pixel.length < frameBytes) {
    throw new Error(`${name}: pixel data has ${pixel.length} bytes, ${columns}×${rows} at ${bitsAllocated} bits needs ${frameBytes}`);
  }
  const position = numbers(ds, TAG.position);
  const orientation = numbers(ds, TAG.orientation);
  const spacing = numbers(ds, TAG.pixelSpacing);
  if (!position || position.length !== 3) throw new Error(`${name}: missing ImagePositionPatient (0020,0032); slices cannot be placed in 3D`);
  if (!orientation || orientation.length !== 6) throw new Error(`${name}: missing ImageOrientationPatient (0020,0037)`);
  if (!spacing || spacing.length !== 2 || !(spacing[0] > 0 && spacing[1] > 0)) throw new Error(`${name}: missing or invalid PixelSpacing (0028,0030)`);
  const slope = ds.floatString(TAG.rescaleSlope);
  const intercept = ds.floatString(TAG.rescaleIntercept);
  return {
    name,
    seriesUid: (ds.string(TAG.seriesUid) ?? '').trim(),
    seriesDescription: ds.string(TAG.seriesDescription)?.trim(),
    modality: ds.string(TAG.modality)?.trim(),
    instanceNumber: ds.intString(TAG.instanceNumber),
    transferSyntax: syntax,
    rows,
    columns,
    position: position as Vec3,
    orientation,
    pixelSpacing: [spacing[0], spacing[1]],
    bitsAllocated,
    bitsStored,
    signed: ds.uint16(TAG.pixelRepresentation) === 1,
    photometric,
    slope: slope !== undefined && Number.isFinite(slope) && slope !== 0 ? slope : 1,
    intercept: intercept !== undefined && Number.isFinite(intercept) ? intercept : 0,
    littleEndian: syntax !== '1.2.840.10008.1.2.2',
    pixelBytes: ds.byteArray.subarray(pixel.dataOffset, pixel.dataOffset + frameBytes),
  };
}

/** Stored pixel values of a slice (masked/sign-extended to BitsStored), as a fresh typed array. */
export function readSlicePixels(s: DicomSlice): VoxelData {
  const n = s.rows * s.columns;
  const bytes = new Uint8Array(s.pixelBytes.length); // aligned copy, never a view of the file
  bytes.set(s.pixelBytes);
  const width = s.bitsAllocated / 8;
  if (!s.littleEndian && width > 1) {
    for (let p = 0; p < bytes.length; p += width) bytes.subarray(p, p + width).reverse();
  }
  const buf = bytes.buffer;
  const out: VoxelData =
    s.bitsAllocated === 8
      ? s.signed
        ? new Int8Array(buf, 0, n)
        : new Uint8Array(buf, 0, n)
      : s.bitsAllocated === 16
        ? s.signed
          ? new Int16Array(buf, 0, n)
          : new Uint16Array(buf, 0, n)
        : s.signed
          ? new Int32Array(buf, 0, n)
          : new Uint32Array(buf, 0, n);
  if (s.bitsStored < s.bitsAllocated) {
    // Unused high bits may hold overlays or garbage; drop them, sign-extending signed data.
    const shift = 32 - s.bitsStored;
    const mask = s.bitsStored >= 32 ? 0xffffffff : 2 ** s.bitsStored - 1;
    const raw = new Uint32Array(n);
    const unsignedView = s.bitsAllocated === 8 ? new Uint8Array(buf, 0, n) : s.bitsAllocated === 16 ? new Uint16Array(buf, 0, n) : new Uint32Array(buf, 0, n);
    for (let p = 0; p < n; p++) raw[p] = unsignedView[p];
    for (let p = 0; p < n; p++) out[p] = s.signed ? (raw[p] << shift) >> shift : raw[p] & mask;
  }
  return out;
}

/** One series among parsed DICOM slices. */
export interface SeriesSummary {
  /** SeriesInstanceUID. */
  seriesUid: string;
  /** SeriesDescription. */
  description?: string;
  /** Modality. */
  modality?: string;
  /** Names of the files of this series. */
  files: string[];
}

/** Groups parsed slices by SeriesInstanceUID. */
export function groupBySeries(slices: DicomSlice[]): SeriesSummary[] {
  const map = new Map<string, SeriesSummary>();
  for (const s of slices) {
    const entry = map.get(s.seriesUid) ?? { seriesUid: s.seriesUid, description: s.seriesDescription, modality: s.modality, files: [] };
    entry.files.push(s.name);
    map.set(s.seriesUid, entry);
  }
  return [...map.values()];
}

/** Options of `readDicomSeries`. */
export interface ReadDicomOptions {
  /** Which SeriesInstanceUID to read when the files hold several. */
  seriesUid?: string;
  /** Largest allowed relative deviation of a slice gap from the mean gap (default 0.05). */
  spacingTolerance?: number;
  /** Name for messages (e.g. the folder). */
  name?: string;
}

const dot = (a: readonly number[], b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: readonly number[], b: readonly number[]): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];

/** Reads one series from its files (any order) into a Volume with a RAS+ affine. */
export function readDicomSeries(files: NamedBuffer[], options: ReadDicomOptions = {}): Volume {
  const label = options.name ?? 'DICOM series';
  if (files.length === 0) throw new Error(`${label}: no files given`);
  let slices = files.map(parseDicomSlice);
  const series = groupBySeries(slices);
  if (options.seriesUid !== undefined) {
    slices = slices.filter((s) => s.seriesUid === options.seriesUid);
    if (slices.length === 0) {
      throw new Error(`${label}: no file belongs to series ${options.seriesUid}; found ${series.map((s) => s.seriesUid).join(', ')}`);
    }
  } else if (series.length > 1) {
    const list = series.map((s) => `${s.seriesUid} (${s.files.length} files${s.description ? `, "${s.description}"` : ''})`).join('; ');
    throw new Error(`${label}: inconsistent series: the files belong to ${series.length} different series (${list}); pick one with the seriesUid option`);
  }
  if (slices.length < 2) throw new Error(`${label}: not a volume: only ${slices.length} slice; a series needs at least 2`);

  const first = slices[0];
  for (const s of slices) {
    const bad: string[] = [];
    if (s.rows !== first.rows || s.columns !== first.columns) bad.push(`size ${s.columns}×${s.rows} vs ${first.columns}×${first.rows}`);
    if (s.orientation.some((v, i) => Math.abs(v - first.orientation[i]) > 1e-4)) {
      bad.push(`orientation [${s.orientation.join(', ')}] vs [${first.orientation.join(', ')}]`);
    }
    if (s.pixelSpacing.some((v, i) => Math.abs(v - first.pixelSpacing[i]) > 1e-4 * Math.max(1, v))) {
      bad.push(`pixel spacing [${s.pixelSpacing.join(', ')}] vs [${first.pixelSpacing.join(', ')}]`);
    }
    if (s.bitsAllocated !== first.bitsAllocated || s.signed !== first.signed) bad.push('pixel format');
    if (bad.length) throw new Error(`${label}: inconsistent series: ${s.name} differs from ${first.name} in ${bad.join('; ')}`);
  }

  const rowCos = first.orientation.slice(0, 3);
  const colCos = first.orientation.slice(3, 6);
  const normal = cross(rowCos, colCos);
  const nNorm = Math.hypot(...normal);
  if (!(nNorm > 0.5)) throw new Error(`${label}: ImageOrientationPatient [${first.orientation.join(', ')}] is degenerate`);
  const unitNormal = normal.map((v) => v / nNorm);
  const sorted = slices
    .map((s) => ({ s, d: dot(s.position, unitNormal) }))
    .sort((a, b) => a.d - b.d);
  const nz = sorted.length;
  const gaps = sorted.slice(1).map((e, n) => e.d - sorted[n].d);
  const meanGap = (sorted[nz - 1].d - sorted[0].d) / (nz - 1);
  const dupe = gaps.findIndex((g) => g < 1e-3);
  if (dupe >= 0) {
    throw new Error(
      `${label}: inconsistent series: ${sorted[dupe].s.name} and ${sorted[dupe + 1].s.name} are at the same position (several acquisitions, echoes or time points in one series?)`,
    );
  }
  const tol = options.spacingTolerance ?? 0.05;
  const worst = gaps.reduce((w, g, n) => (Math.abs(g - meanGap) > Math.abs(gaps[w] - meanGap) ? n : w), 0);
  if (Math.abs(gaps[worst] - meanGap) > tol * meanGap) {
    throw new Error(
      `${label}: non-uniform slice spacing: ${gaps[worst].toFixed(3)} mm between ${sorted[worst].s.name} and ${sorted[worst + 1].s.name}, mean ${meanGap.toFixed(3)} mm (missing slice?)`,
    );
  }

  const warnings: string[] = [];
  const p0 = sorted[0].s.position;
  const pN = sorted[nz - 1].s.position;
  const step = [0, 1, 2].map((a) => (pN[a] - p0[a]) / (nz - 1));
  const along = dot(step, unitNormal) / Math.hypot(...step);
  if (along < 0.9999) warnings.push(`slices are not stacked along their normal (gantry tilt ${((Math.acos(Math.min(1, along)) * 180) / Math.PI).toFixed(2)}°): the affine is sheared`);
  if (first.photometric === 'MONOCHROME1') warnings.push('MONOCHROME1: stored values are kept (low = white on display)');
  const [rowSpacing, colSpacing] = first.pixelSpacing;
  // LPS affine: columns = i step, j step, k step; origin = first slice position.
  const lps: Mat4 = [0, 1, 2].map((r) => [rowCos[r] * colSpacing, colCos[r] * rowSpacing, step[r], p0[r]]);
  lps.push([0, 0, 0, 1]);
  const affine = lps.map((row, r) => (r < 2 ? row.map((v) => (v === 0 ? 0 : -v)) : row));

  const nx = first.columns;
  const ny = first.rows;
  const plane = nx * ny;
  // All slices are read before allocating, so one output type fits every slice's rescale parameters.
  const parts: ScaledPart[] = sorted.map(({ s }) => ({ raw: readSlicePixels(s), slope: s.slope, intercept: s.intercept }));
  const type = chooseScaledType(parts);
  let data: VoxelData;
  if (type === 'keep') {
    const Ctor = parts[0].raw.constructor as new (n: number) => VoxelData;
    data = new Ctor(plane * nz);
    parts.forEach((p, k) => data.set(p.raw as never, k * plane));
  } else {
    data = allocateScaled(type, plane * nz);
    parts.forEach((p, k) => scaleInto(data, k * plane, p.raw, p.slope, p.intercept));
  }

  return {
    dims: [nx, ny, nz],
    spacing: [colSpacing, rowSpacing, meanGap],
    data,
    affine,
    nifti: niftiGeometryFromAffine(affine, XFORM_SCANNER_ANAT),
    source: { format: 'dicom', name: label, description: first.seriesDescription, modality: first.modality },
    warnings: warnings.length ? warnings : undefined,
  };
}
