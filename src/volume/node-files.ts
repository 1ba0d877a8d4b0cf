// Node-only file helpers around the byte-level readers/writers (nifti.ts, dicom.ts). Browser code
// must not import this file.

import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { hasDicomMagic, readDicomSeries, type ReadDicomOptions } from './dicom.js';
import { readNifti, writeNifti, writeNiftiLabels, type ReadNiftiOptions, type WriteNiftiOptions } from './nifti.js';
import type { Volume } from './volume.js';

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
 * "DICM" marker (README, thumbnails) are skipped; every other file must be a valid slice.
 */
export function readDicomFolder(dir: string, options: ReadDicomOptions = {}): Volume {
  const files = readdirSync(dir)
    .filter((f) => !f.startsWith('.') && f.toUpperCase() !== 'DICOMDIR')
    .sort()
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile())
    .map((p) => ({ name: basename(p), data: readFileSync(p) }))
    .filter((f) => hasDicomMagic(f.data));
  if (files.length === 0) throw new Error(`${dir}: no DICOM files (with a "DICM" marker) found`);
  return readDicomSeries(files, { name: dir, ...options });
}

/** A folder is read as a DICOM series, anything else as NIfTI (.nii or .nii.gz). */
export function readVolumeFile(path: string, options: { frame?: number; seriesUid?: string } = {}): Volume {
  if (statSync(path).isDirectory()) return readDicomFolder(path, { seriesUid: options.seriesUid });
  const bytes = readFileSync(path);
  if (hasDicomMagic(bytes)) {
    throw new Error(`${path}: a single DICOM file is one slice, not a volume; pass the folder holding the whole series`);
  }
  return readNifti(bytes, { name: basename(path), frame: options.frame });
}
