// `sam2-webgpu segment VOLUME --weights W --box ... --out MASK`: prompt one slice of a volume with a
// box or clicks, propagate through the volume, write the label map on the volume's own grid.
// Every input is checked before the GPU or the model is touched; the output is written through a
// temporary file and never replaces an input.

import { PRECISION_HELP, PRECISION_OPTIONS, precisionOption } from './precision-option.js';
import { precisionLabel } from '../model/precision.js';
import { choiceOption, intOption, parseCli, UsageError } from '../../weights-tools/cli-args.js';
import { checkOutputFile, loadEngine, openVolumeInput, readWeightsInfo, writeLabelsFile } from '../pipeline/node-io.js';
import { prepareVolume, toSourceLabels, windowChoice, type WindowChoice } from '../pipeline/prepare-volume.js';
import { DIRECTIONS, propagationLength, segmentVolume, type ObjectPrompt } from '../pipeline/segment-volume.js';
import type { Direction } from '../model/video-predictor.js';
import { planReorientation } from '../volume/orientation.js';
import { AXES, sliceShape, type Axis } from '../volume/slicing.js';
import { checkBox, checkPoints, checkSliceIndex, type Box, type Point } from '../volume/validate.js';
import type { VolumeFileOptions } from '../volume/node-files.js';
import { axisCodes, type Volume } from '../volume/volume.js';
import { GpuDeviceLostError, GpuError } from '../runtime/gpu-errors.js';
import { ProgressBar } from './progress.js';

export const WINDOW_HELP = `Window (intensity → uint8, one mapping for the whole volume, as MedSAM/MedSAM2 pre-process):
  CT presets abdomen (W400/L40), lung, brain, mediastinum, bone; WIDTH/LEVEL such as 400/40;
  mr (0.5-99.5 percentiles of non-zero voxels); minmax. Default: DICOM modality CT → abdomen,
  other DICOM → mr; NIfTI (no modality): abdomen if the volume has values <= -500 (air in HU),
  else mr.`;

export const USAGE = `usage: sam2-webgpu segment VOLUME --weights FILE --out MASK.nii.gz
         (--box x0,y0,x1,y1 | --points x,y,+ [x,y,- ...]) [...more objects] [options]

Segments a 3D volume from prompts on one slice and propagates them through the volume with SAM 2
(forward and backward, as MedSAM2). Writes a label map on the volume's grid (label 1, 2, ... per
object in the order given).
  VOLUME                 .nii / .nii.gz file, or a folder holding one DICOM series
  --weights FILE         SAM 2 weights (.safetensors from \`sam2-webgpu convert\` or \`synth\`)
  --out FILE             output label map (.nii.gz or .nii); never one of the inputs
  --box x0,y0,x1,y1      a box (inclusive pixel corners); each --box is one object
  --points x,y,+ ...     clicks, + positive and - negative; each --points group is one object
  --axis A               axial (default), coronal or sagittal
  --slice N              index of the prompted slice along the axis (default: the middle one)
  --window W             intensity window (see below)
  --direction D          both (default), forward or backward from the prompted slice
  --max-slices N         most slices to track in each direction (default: to the ends)
  --fill-hole-area N     fill background holes of at most N low-res mask pixels in every slice
                         (default: the model's, 8 for the official configs; 0 = off)
  --largest-component    keep only the largest 3-D connected component of each object
  --series UID           DICOM folder holding several series: the SeriesInstanceUID to read
  --frame N              4D NIfTI: the frame (0-based) to segment
  --max-volume-mb N      largest uncompressed volume accepted (default 2048)
  --force                replace --out if it already exists
  --quiet                no progress display
${PRECISION_HELP}

Coordinates are pixel indices (x = column, y = row) of the slice as shown radiologically: the
volume is first reoriented to LPS, so axial slices have the patient's right on the left and
anterior at the top, and coronal/sagittal slices have superior at the top.

${WINDOW_HELP}`;

const NUMBER = '-?\\d+(?:\\.\\d+)?';
const POINT_RE = new RegExp(`^(${NUMBER}),(${NUMBER})(?:,([+-]|1|0|pos|neg))?$`, 'i');

/** "x,y,+" / "x,y,-" / "x,y" (positive); returns null when `token` is not a point. */
export function parsePoint(token: string): Point | null {
  const m = POINT_RE.exec(token.trim());
  if (!m) return null;
  const sign = (m[3] ?? '+').toLowerCase();
  return { x: Number(m[1]), y: Number(m[2]), label: sign === '+' || sign === '1' || sign === 'pos' ? 1 : 0 };
}

const DECIMAL_RE = new RegExp(`^${NUMBER}$`);

/** x0,y0,x1,y1 as plain decimal numbers: Number() would also take "0x7", "1e2" or "Infinity". */
export function parseBox(text: string): Box {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length !== 4 || parts.some((p) => !DECIMAL_RE.test(p))) {
    throw new UsageError(`--box expects x0,y0,x1,y1 (four decimal numbers), got "${text}"`, USAGE);
  }
  return parts.map(Number) as Box;
}

function isPointGroup(token: string): boolean {
  const words = token.split(/[\s;]+/).filter(Boolean);
  return words.length > 0 && words.every((w) => parsePoint(w) !== null);
}

export type ObjectSpec = { box: Box } | { points: Point[] };

/**
 * Pulls the --box / --points groups out of argv, in order (each is one object), and returns the
 * remaining arguments for the ordinary option parser. A --points group takes every following
 * token that reads as a point ("x,y,+"), or one quoted token with several separated by spaces.
 */
export function extractObjectArgs(argv: string[]): { objects: ObjectSpec[]; rest: string[] } {
  const objects: ObjectSpec[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const inline = /^--(box|points)=(.*)$/.exec(a);
    const flag = inline ? inline[1] : a === '--box' ? 'box' : a === '--points' ? 'points' : null;
    if (!flag) {
      rest.push(a);
      continue;
    }
    if (flag === 'box') {
      const value = inline ? inline[2] : argv[++i];
      if (value === undefined) throw new UsageError('--box needs a value x0,y0,x1,y1', USAGE);
      objects.push({ box: parseBox(value) });
      continue;
    }
    const tokens: string[] = inline ? [inline[2]] : [];
    // The first value is taken whatever it is (so a malformed point gets a clear error); later
    // tokens only while they read as points.
    if (!inline && i + 1 < argv.length && !argv[i + 1].startsWith('--')) tokens.push(argv[++i]);
    while (i + 1 < argv.length && isPointGroup(argv[i + 1])) tokens.push(argv[++i]);
    const words = tokens.flatMap((t) => t.split(/[\s;]+/)).filter(Boolean);
    if (words.length === 0) throw new UsageError('--points needs at least one point x,y,+ or x,y,-', USAGE);
    const points = words.map((w) => {
      const p = parsePoint(w);
      if (!p) throw new UsageError(`--points: "${w}" is not a point; write x,y,+ (positive) or x,y,- (negative)`, USAGE);
      return p;
    });
    objects.push({ points });
  }
  return { objects, rest };
}

export function parseDirection(values: Record<string, unknown>, usage: string): Direction {
  return choiceOption(values, 'direction', DIRECTIONS, usage) ?? 'both';
}

export function parseAxisOption(values: Record<string, unknown>, usage: string): Axis {
  return choiceOption(values, 'axis', AXES, usage) ?? 'axial';
}

/** --max-slices accepts 0 (only the prompted slice). */
export function maxSlicesOption(values: Record<string, unknown>, usage: string): number | undefined {
  const raw = values['max-slices'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new UsageError(`--max-slices must be a non-negative integer, got "${String(raw)}"`, usage);
  return Number(raw);
}

/** --fill-hole-area N (0 = off); undefined leaves the model config's. */
export function fillHoleAreaOption(values: Record<string, unknown>, usage: string): number | undefined {
  const raw = values['fill-hole-area'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new UsageError(`--fill-hole-area must be a non-negative integer, got "${String(raw)}"`, usage);
  return Number(raw);
}

/** --series, --frame and --max-volume-mb: which part of the input to read, and how much at most. */
export function volumeFileOptions(values: Record<string, unknown>, usage: string): VolumeFileOptions {
  const frame = values.frame;
  if (frame !== undefined && (typeof frame !== 'string' || !/^\d+$/.test(frame))) {
    throw new UsageError(`--frame must be a non-negative integer, got "${String(frame)}"`, usage);
  }
  const series = values.series;
  if (series !== undefined && (typeof series !== 'string' || !/^[0-9.]+$/.test(series))) {
    throw new UsageError(`--series must be a SeriesInstanceUID (digits and dots), got "${String(series)}"`, usage);
  }
  const mb = intOption(values, 'max-volume-mb', usage);
  return {
    frame: frame === undefined ? undefined : Number(frame),
    seriesUid: series as string | undefined,
    maxBytes: mb === undefined ? undefined : mb * 2 ** 20,
  };
}

/** The option specs of volumeFileOptions, for parseCli. */
export const VOLUME_FILE_OPTIONS = {
  series: { type: 'string' },
  frame: { type: 'string' },
  'max-volume-mb': { type: 'string' },
} as const;

export function parseWindowOption(values: Record<string, unknown>): WindowChoice | undefined {
  return typeof values.window === 'string' ? windowChoice(values.window) : undefined;
}

/** Dims after the LPS reorientation the pipeline applies, for checking prompts before any work. */
export function orientedDims(volume: Pick<Volume, 'affine' | 'dims'>): [number, number, number] {
  return planReorientation(volume.affine, volume.dims, 'LPS').targetDims;
}

export function describeVolume(v: Volume): string {
  return `${v.dims.join('×')} voxels, ${v.spacing.map((s) => +s.toFixed(3)).join('×')} mm, stored ${axisCodes(v.affine).join('')}`;
}

export function formatRate(slices: number, ms: number, adapter: string): string {
  const s = ms / 1000;
  return `${slices} slices in ${s.toFixed(1)} s (${(s > 0 ? slices / s : 0).toFixed(2)} slices/s) on ${adapter}`;
}

/**
 * A GPU failure as the user should read it: what happened, that no output was written, and what
 * to try. Other errors pass through unchanged.
 */
export function explainGpuFailure(e: unknown): unknown {
  if (e instanceof GpuDeviceLostError) {
    return new Error(`${e.message}; nothing was written. The GPU driver reset or the device went away; close other GPU programs and run the command again.`);
  }
  if (e instanceof GpuError && e.kind === 'out-of-memory') {
    return new Error(`${e.message}; nothing was written. Free GPU memory (close other GPU programs), or use smaller weights (e.g. a smaller --arch or --image-size when converting).`);
  }
  if (e instanceof GpuError) return new Error(`${e.message}; nothing was written. This is an engine or driver bug: please report it with the command line.`);
  return e;
}

/** An AbortController that fires on Ctrl-C while `body` runs. */
export async function withInterrupt<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ninterrupted: stopping after the current slice\n');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    return await body(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export async function run(argv: string[]): Promise<number> {
  const { objects, rest } = extractObjectArgs(argv);
  const { values, positionals, help } = parseCli(
    rest,
    {
      weights: { type: 'string' },
      out: { type: 'string' },
      axis: { type: 'string' },
      slice: { type: 'string' },
      window: { type: 'string' },
      direction: { type: 'string' },
      'max-slices': { type: 'string' },
      'fill-hole-area': { type: 'string' },
      'largest-component': { type: 'boolean' },
      ...VOLUME_FILE_OPTIONS,
      force: { type: 'boolean' },
      quiet: { type: 'boolean' },
      ...PRECISION_OPTIONS,
    },
    USAGE,
    { min: 1, max: 1 },
  );
  if (help) {
    console.log(USAGE);
    return 0;
  }
  const [volumePath] = positionals;
  if (typeof values.weights !== 'string') throw new UsageError('--weights is required', USAGE);
  if (typeof values.out !== 'string') throw new UsageError('--out is required', USAGE);
  const precision = precisionOption(values, USAGE);
  if (objects.length === 0) throw new UsageError('give at least one object: --box x0,y0,x1,y1 or --points x,y,+', USAGE);
  const axis = parseAxisOption(values, USAGE);
  const direction = parseDirection(values, USAGE);
  const maxSlices = maxSlicesOption(values, USAGE);
  const fillHoleArea = fillHoleAreaOption(values, USAGE);
  const window = parseWindowOption(values);
  const fileOptions = volumeFileOptions(values, USAGE);
  let sliceIndex: number | undefined;
  if (values.slice !== undefined) {
    if (typeof values.slice !== 'string' || !/^-?\d+$/.test(values.slice)) throw new UsageError(`--slice must be an integer, got "${String(values.slice)}"`, USAGE);
    sliceIndex = Number(values.slice);
  }
  const weightsPath = values.weights;
  const outPath = values.out;
  const quiet = values.quiet === true;

  // Cheap checks first: output path, weights header, the volume's header and the prompts against
  // its grid; only then are the voxels read (a .nii.gz is not inflated before the prompts pass).
  checkOutputFile(outPath, [volumePath, weightsPath], values.force === true);
  const weights = await readWeightsInfo(weightsPath);
  const opened = openVolumeInput(volumePath, 'image', fileOptions);
  const dims = orientedDims(opened);
  const { width, height, count } = sliceShape(dims, axis);
  const slice = sliceIndex ?? Math.floor(count / 2);
  checkSliceIndex(slice, dims, axis);
  const prompts: ObjectPrompt[] = objects.map((o, n) => {
    const what = `object ${n + 1} (${'box' in o ? '--box' : '--points'})`;
    try {
      if ('box' in o) checkBox(o.box, width, height);
      else checkPoints(o.points, width, height);
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message} of ${axis} slice ${slice}`);
    }
    return { label: n + 1, slice, ...('box' in o ? { box: o.box } : { points: o.points }) };
  });

  const volume = opened.read();
  const prepared = prepareVolume(volume, { axis, window });
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  log(`image ${volumePath}: ${describeVolume(volume)}`);
  log(`slices: ${count} ${axis} of ${width}×${height} (LPS), prompts on slice ${slice}`);
  log(`window: ${prepared.window.name}${prepared.window.reason ? ` (${prepared.window.reason})` : ''}`);
  log(`weights ${weightsPath}: ${weights.config.arch} at ${weights.config.imageSize} px`);
  for (const w of volume.warnings ?? []) log(`warning: ${w}`);

  let engine = await loadEngine(weightsPath, precision);
  try {
    log(`device: ${engine.gpu.adapterName}${precision.precision ? `; precision ${precisionLabel(engine.model.precision)}` : ''}`);
    const total = propagationLength(count, slice, direction, maxSlices);
    const bar = quiet ? null : new ProgressBar({ total, label: 'segmenting' });
    const t0 = performance.now();
    let result;
    try {
      result = await withInterrupt((signal) =>
        segmentVolume(engine.gpu, engine.model, prepared, prompts, {
          direction,
          maxSlices,
          fillHoleArea,
          largestComponent: values['largest-component'] === true,
          signal,
          onSlice: (done, n) => bar?.update(done, n),
          // A lost device (driver reset, GPU removed) is not the input's fault: continue on a
          // new one from the last finished slice, once.
          onDeviceLost: async (error, done) => {
            bar?.finish();
            process.stderr.write(`${error.message}\nresuming on a new GPU device from slice ${done + 1} of ${total} (${done} finished slices kept)\n`);
            engine.release();
            engine = await loadEngine(weightsPath, precision);
            return engine;
          },
        }),
      );
    } catch (e) {
      bar?.finish();
      throw explainGpuFailure(e);
    }
    bar?.finish();
    const ms = performance.now() - t0;
    if (result.cancelled) {
      console.error(`cancelled after ${result.slices.length} of ${total} slices; nothing written`);
      return 130;
    }
    const labels = toSourceLabels(prepared, result.labels);
    writeLabelsFile(outPath, labels, `sam2-webgpu ${weights.config.arch} ${axis} ${direction}`);
    const counts = prompts.map((p) => {
      let c = 0;
      for (let v = 0; v < labels.data.length; v++) if (labels.data[v] === p.label) c++;
      return `label ${p.label}: ${c} voxels`;
    });
    console.log(formatRate(result.slices.length, ms, engine.gpu.adapterName));
    console.log(`wrote ${outPath} (${counts.join(', ')})`);
    return 0;
  } finally {
    engine.release();
  }
}
