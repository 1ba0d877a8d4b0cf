// Node-only file helpers around the byte-level readers/writers (nifti.ts, dicom.ts). Browser code
// must not import this file.

import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { hasDicomMagic, readDicomSeries, type NamedBuffer, type ReadDicomOptions, type SkippedFile } from './dicom.js';
import { openNifti, readNifti, writeNifti, writeNiftiLabels, type ReadNiftiOptions, type WriteNiftiOptions } from './nifti.js';
import type { Mat4, Vec3, Volume } from './volume.js';

/** Reads a .nii / .nii.gz file. */
export function readNiftiFile(path: string, options: ReadNiftiOptions = {}): Volume {
  return readNifti(readFileSync(path), { name: basename(path), ...options });
}

/** Writes a label map; gzip unless the path ends in ".nii". */
export function writeNiftiLabelsFile(path: string, labels: Volume, options: WriteNiftiOptions = {}): void {
  writeFileSync(path, writeNiftiLabels(labels, { gzip: !path.endsWith('.nii'), ...options }));
}

/** Writes any volume (e.g. a windowed uint8 image); gzip unless the path ends in ".nii". */
export function writeNiftiFile(path: string, volume: Volume, options: WriteNiftiOptions = {}): void {
  writeFileSync(path, writeNifti(volume, { gzip: !path.endsWith('.nii'), ...options }));
}

/**
 * Reads the DICOM series in a folder (not recursive). Hidden files, DICOMDIR and files without the
 * "DICM" marker (README, thumbnails) are left out; broken links, unreadable entries and DICOM files
 * that are not images of the series are skipped with a warning (readDicomSeries).
 */
export function readDicomFolder(dir: string, options: ReadDicomOptions = {}): Volume {
  const skipped: SkippedFile[] = [];
  const files: NamedBuffer[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (f.startsWith('.') || f.toUpperCase() === 'DICOMDIR') continue;
    const path = join(dir, f);
    try {
      if (!statSync(path).isFile()) continue;
      // Only the preamble first: a large non-DICOM file in the folder is never read whole.
      if (!hasDicomMagic(readPrefix(path, 132))) continue;
      files.push({ name: f, data: readFileSync(path) });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      skipped.push({ name: f, reason: code === 'ENOENT' ? 'broken symbolic link' : `cannot be read (${code ?? (e as Error).message})` });
    }
  }
  if (files.length === 0) {
    throw new Error(`${dir}: no DICOM files (with a "DICM" marker) found${skipped.length ? ` (skipped: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})` : ''}`);
  }
  return readDicomSeries(files, { name: dir, ...options, skipped });
}

function readPrefix(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const out = new Uint8Array(n);
    const got = readSync(fd, out, 0, n, 0);
    return out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

export interface VolumeFileOptions {
  /** NIfTI: the frame of a 4D file (--frame). */
  frame?: number;
  /** DICOM: the SeriesInstanceUID to read (--series). */
  seriesUid?: string;
  /** Largest uncompressed volume accepted, in bytes (--max-volume-mb; default 2 GiB). */
  maxBytes?: number;
}

/** A volume input whose geometry is known before its voxels are read. */
export interface OpenedVolumeFile {
  dims: Vec3;
  affine: Mat4;
  read(): Volume;
}

/**
 * Opens a NIfTI file or DICOM folder: for NIfTI only the header is read (a .nii.gz is inflated
 * just as far), so prompts can be checked against the grid before any voxel is inflated. A DICOM
 * folder is read whole (each slice is bounded on its own).
 */
export function openVolumeFile(path: string, options: VolumeFileOptions = {}): OpenedVolumeFile {
  if (statSync(path).isDirectory()) {
    if (options.frame !== undefined) throw new Error(`${path}: --frame applies to 4D NIfTI files, not to a DICOM folder`);
    const v = readDicomFolder(path, { seriesUid: options.seriesUid, maxBytes: options.maxBytes });
    return { dims: v.dims, affine: v.affine, read: () => v };
  }
  if (options.seriesUid !== undefined) throw new Error(`${path}: --series applies to DICOM folders, not to a single file`);
  const bytes = readFileSync(path);
  if (hasDicomMagic(bytes)) {
    throw new Error(`${path}: a single DICOM file is one slice, not a volume; pass the folder holding the whole series`);
  }
  const nifti = openNifti(bytes, { name: basename(path), frame: options.frame, maxBytes: options.maxBytes });
  return { dims: nifti.dims, affine: nifti.affine, read: () => nifti.read() };
}

/** A folder is read as a DICOM series, anything else as NIfTI (.nii or .nii.gz). */
export function readVolumeFile(path: string, options: VolumeFileOptions = {}): Volume {
  return openVolumeFile(path, options).read();
}
