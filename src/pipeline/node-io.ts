// Node-only file side of the pipeline: inputs read with errors that say which input is wrong and
// why, outputs that never replace an input and never leave a partial file (temporary file in the
// same folder, renamed into place), and the engine (GPU + model) loaded from a weights file.

import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { reportToJson, reportToMarkdown } from '../eval/report.js';
import { FileSource, readSafetensorsHeader } from '../io/node-files.js';
import { configFromMetadata, type Sam2Config } from '../model/config.js';
import { Sam2Model, type Sam2LoadOptions } from '../model/sam2-model.js';
import { createGpu } from '../node.js';
import type { Gpu } from '../runtime/gpu.js';
import { writeNiftiLabels } from '../volume/nifti.js';
import { openVolumeFile, type OpenedVolumeFile, type VolumeFileOptions } from '../volume/node-files.js';
import type { Volume } from '../volume/volume.js';
import type { EvaluationResult } from './evaluate-volume.js';

/** Runs a volume reader, prefixing its errors with `role` and the full path. */
function asInput<T>(path: string, role: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    const msg = (e as Error).message;
    // The readers' messages start with the file's base name: name the input by its full path.
    const name = basename(path);
    const detail = msg.startsWith(path) ? msg.slice(path.length) : msg.startsWith(name) ? msg.slice(name.length) : `: ${msg}`;
    throw new Error(`${role} ${path}${detail}`);
  }
}

/**
 * Opens a NIfTI file (header only) or DICOM folder; `role` ("image", "labels") prefixes every
 * error. Check prompts against `dims` before calling `read()`.
 */
export function openVolumeInput(path: string, role: string, options: VolumeFileOptions = {}): OpenedVolumeFile {
  if (!existsSync(path)) throw new Error(`${role} ${path}: no such file or folder`);
  const opened = asInput(path, role, () => openVolumeFile(path, options));
  return { dims: opened.dims, affine: opened.affine, read: () => asInput(path, role, () => opened.read()) };
}

/** Reads a NIfTI file or DICOM folder; `role` ("image", "labels") prefixes every error. */
export function readVolumeInput(path: string, role: string, options: VolumeFileOptions = {}): Volume {
  return openVolumeInput(path, role, options).read();
}

export interface WeightsInfo {
  path: string;
  config: Sam2Config;
  bytes: number;
}

/** Reads only the header of a weights file: cheap, so a wrong file fails before any heavy work. */
export async function readWeightsInfo(path: string): Promise<WeightsInfo> {
  if (!existsSync(path)) throw new Error(`weights ${path}: no such file (make synthetic ones with \`sam2-webgpu synth --arch sam2.1_hiera_t --image-size 512 --out ${path}\`)`);
  if (statSync(path).isDirectory()) throw new Error(`weights ${path}: is a folder, expected a .safetensors file`);
  const source = await FileSource.open(path);
  try {
    let header;
    try {
      header = await readSafetensorsHeader(source);
    } catch (e) {
      throw new Error(`weights ${path}: not a safetensors file (${(e as Error).message}); convert PyTorch checkpoints with \`sam2-webgpu convert\``);
    }
    const config = configFromMetadata(header.metadata);
    if (!config) throw new Error(`weights ${path}: no SAM 2 configuration in its metadata; convert the checkpoint with \`sam2-webgpu convert\``);
    return { path, config, bytes: source.size };
  } finally {
    await source.close();
  }
}

export interface Engine {
  gpu: Gpu;
  model: Sam2Model;
  release(): void;
}

/** A GPU and the model of a weights file, at the given precision (precision.ts; default as stored). */
export async function loadEngine(weightsPath: string, opts: Pick<Sam2LoadOptions, 'precision' | 'fallback'> = {}): Promise<Engine> {
  const bytes = await readFile(weightsPath);
  const gpu = await createGpu();
  try {
    const model = await Sam2Model.load(gpu, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), opts);
    return {
      gpu,
      model,
      release() {
        model.release();
        gpu.destroy();
      },
    };
  } catch (e) {
    gpu.destroy();
    throw new Error(`weights ${weightsPath}: ${(e as Error).message}`);
  }
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/**
 * Checks an output path before any work: a .nii or .nii.gz name, an existing folder, not one of
 * the inputs, and no existing file unless `force`.
 */
export function checkOutputFile(path: string, inputs: string[], force: boolean, what = 'output'): void {
  if (!/\.nii(\.gz)?$/i.test(path)) throw new Error(`${what} ${path}: must end in .nii.gz or .nii`);
  for (const input of inputs) {
    if (samePath(path, input)) throw new Error(`${what} ${path} is also an input; refusing to overwrite it`);
  }
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${what} ${path}: folder ${dir} does not exist`);
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new Error(`${what} ${path} is a folder`);
    if (!force) throw new Error(`${what} ${path} already exists; pass --force to replace it`);
  }
}

/** Checks that a report folder can be created and holds none of the inputs. */
export function checkReportDir(dir: string, inputs: string[]): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`report folder ${dir} is a file`);
  for (const input of inputs) {
    const inside = ['report.json', 'report.md'].some((f) => samePath(join(dir, f), input));
    if (inside) throw new Error(`report folder ${dir} would overwrite the input ${input}`);
  }
}

/** Writes `bytes` to a temporary file next to `path` and renames it into place. */
export function writeFileAtomicSync(path: string, bytes: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A label volume as .nii.gz (or .nii), written atomically. */
export function writeLabelsFile(path: string, labels: Volume, description = 'sam2-webgpu labels'): void {
  writeFileAtomicSync(path, writeNiftiLabels(labels, { gzip: !/\.nii$/i.test(path), description }));
}

/** report.json, report.md and the overlay PNGs into `dir` (created if needed); returns the paths. */
export function writeReportFiles(dir: string, result: EvaluationResult): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const o of result.overlays) {
    const p = join(dir, o.file);
    writeFileAtomicSync(p, o.png);
    written.push(p);
  }
  const md = join(dir, 'report.md');
  const json = join(dir, 'report.json');
  writeFileAtomicSync(json, reportToJson(result.report));
  writeFileAtomicSync(md, reportToMarkdown(result.report));
  written.push(json, md);
  return written;
}
