// `sam2-webgpu quant-eval VOLUME --labels GT --weights W --structures 6 [--configs "int8;int4-g64"]`:
// runs f32 and each precision on the same prompts and writes quant-eval.json, quant-eval.md and
// quant-eval.png (size, speed, agreement with f32, accuracy against the labels, component rel-L2).

import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { parseSafetensors } from '../io/safetensors.js';
import { quantReportJson, quantReportMarkdown, quantReportPng } from '../eval/quant-report.js';
import { parsePrecision } from '../model/precision.js';
import { parseCli, UsageError } from '../../weights-tools/cli-args.js';
import { checkStructuresPresent, parsePromptMode } from '../pipeline/evaluate-volume.js';
import { checkReportDir, readVolumeInput, readWeightsInfo, writeFileAtomicSync } from '../pipeline/node-io.js';
import { orientLike, prepareVolume } from '../pipeline/prepare-volume.js';
import { quantEval } from '../pipeline/quant-eval.js';
import { checkSameGeometry } from '../volume/validate.js';
import { ProgressBar } from './progress.js';
import { describeVolume, maxSlicesOption, parseAxisOption, parseDirection, parseWindowOption, WINDOW_HELP, withInterrupt } from './segment.js';

export const DEFAULT_CONFIGS = ['f16', 'bf16', 'all=f16,act=f16', 'int8', 'int8-mse', 'int4-g128', 'int4-g64', 'int4-g64-mse', 'int4-g32', 'encoder=int4-g64'];

export const USAGE = `usage: sam2-webgpu quant-eval VOLUME --labels LABELS --weights FILE --structures L1,... [options]

Runs the same weights at f32 and at each precision of --configs on the same simulated prompts (a
box on each structure's key slice, propagated as in \`eval\`), and writes quant-eval.json,
quant-eval.md and quant-eval.png into --report-dir: per precision the weights' GPU bytes, peak GPU
bytes, slices/s, per-slice and whole-volume Dice of the masks against the f32 masks, Dice and NSD
against the labels, and the rel-L2 of each component's output against f32 on the first
structure's key slice (teacher-forced). Each precision runs on a fresh device.
  VOLUME                 .nii / .nii.gz file, or a folder holding one DICOM series
  --labels FILE          ground-truth label map on the same grid as VOLUME
  --weights FILE         SAM 2 weights (.safetensors), ideally f32
  --structures L1,L2     label values to evaluate
  --configs "A;B;..."    precisions, separated by ";" (each as --precision of \`segment\`), default:
                         ${DEFAULT_CONFIGS.join(';')}
  --prompt P             box (default), mask or clicks:K
  --axis A               axial (default), coronal or sagittal
  --window W             intensity window (see below)
  --direction D          both (default), forward or backward
  --max-slices N         most slices to track in each direction (default: to the ends)
  --nsd-tolerance MM     NSD tolerance (default 2 mm)
  --report-dir DIR       where the files go (default quant-eval)
  --precision-fallback   without shader-f16, run f16 activations in f32 (with a warning)
  --quiet                no progress display

${WINDOW_HELP}`;

function parseConfigs(text: string | undefined): string[] {
  if (text === undefined) return DEFAULT_CONFIGS;
  const configs = text.split(';').map((s) => s.trim()).filter(Boolean);
  if (configs.length === 0) throw new UsageError('--configs needs at least one precision', USAGE);
  for (const c of configs) {
    try {
      parsePrecision(c);
    } catch (e) {
      throw new UsageError(`--configs: ${(e as Error).message}`, USAGE);
    }
  }
  return configs;
}

function parseStructures(text: string): number[] {
  const out = text.split(',').map((s) => s.trim()).filter(Boolean).map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1) throw new UsageError(`--structures: "${p}" is not a positive label value`, USAGE);
    return Number(p);
  });
  if (out.length === 0) throw new UsageError('--structures needs at least one label value', USAGE);
  return [...new Set(out)];
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCli(
    argv,
    {
      labels: { type: 'string' },
      weights: { type: 'string' },
      structures: { type: 'string' },
      configs: { type: 'string' },
      prompt: { type: 'string' },
      axis: { type: 'string' },
      window: { type: 'string' },
      direction: { type: 'string' },
      'max-slices': { type: 'string' },
      'nsd-tolerance': { type: 'string' },
      'report-dir': { type: 'string' },
      'precision-fallback': { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    USAGE,
    { min: 1, max: 1 },
  );
  if (help) {
    console.log(USAGE);
    return 0;
  }
  const [volumePath] = positionals;
  for (const k of ['labels', 'weights', 'structures']) if (typeof values[k] !== 'string') throw new UsageError(`--${k} is required`, USAGE);
  const labelsPath = values.labels as string;
  const weightsPath = values.weights as string;
  const structures = parseStructures(values.structures as string);
  const configs = parseConfigs(values.configs as string | undefined);
  const axis = parseAxisOption(values, USAGE);
  const direction = parseDirection(values, USAGE);
  const maxSlices = maxSlicesOption(values, USAGE);
  const window = parseWindowOption(values);
  let prompt;
  try {
    prompt = parsePromptMode(typeof values.prompt === 'string' ? values.prompt : 'box');
  } catch (e) {
    throw new UsageError(`--prompt: ${(e as Error).message}`, USAGE);
  }
  const nsdRaw = values['nsd-tolerance'];
  const nsdToleranceMm = nsdRaw === undefined ? 2 : Number(nsdRaw);
  if (!(nsdToleranceMm >= 0)) throw new UsageError(`--nsd-tolerance must be a non-negative number, got "${String(nsdRaw)}"`, USAGE);
  const reportDir = typeof values['report-dir'] === 'string' ? values['report-dir'] : 'quant-eval';
  const quiet = values.quiet === true;
  const inputs = [volumePath, labelsPath, weightsPath];

  checkReportDir(reportDir, inputs);
  const info = await readWeightsInfo(weightsPath);
  const volume = readVolumeInput(volumePath, 'image');
  const labels = readVolumeInput(labelsPath, 'labels');
  checkSameGeometry(volume, labels, [`image ${volumePath}`, `labels ${labelsPath}`]);
  checkStructuresPresent(labels.data, structures, `labels ${labelsPath}`);
  const prepared = prepareVolume(volume, { axis, window });
  const gt = orientLike(prepared, labels.data);
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  log(`image ${volumePath}: ${describeVolume(volume)}`);
  log(`weights ${weightsPath}: ${info.config.arch} at ${info.config.imageSize} px; precisions: f32;${configs.join(';')}`);

  const bytes = await readFile(weightsPath);
  let bar: ProgressBar | null = null;
  const result = await withInterrupt((signal) =>
    quantEval(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), info.config, prepared, gt, {
      configs,
      structures,
      prompt,
      direction,
      maxSlices,
      nsdToleranceMm,
      fallback: values['precision-fallback'] === true,
      signal,
      onConfig: ({ index, count, precision }) => {
        bar?.finish();
        bar = quiet ? null : new ProgressBar({ total: 1, label: `[${index + 1}/${count}] ${precision}` });
      },
      onSlice: (done, total) => bar?.update(done, total),
    }),
  );
  (bar as ProgressBar | null)?.finish();
  if (result.rows.length === 0) {
    console.error('cancelled before the f32 run finished; nothing written');
    return 130;
  }
  // `sam2-webgpu synth` records its formula in the file's metadata.
  const synthetic = parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).metadata.formula !== undefined;
  const perDirection = maxSlices === undefined ? 'to the ends of the volume' : `at most ${maxSlices} slice${maxSlices === 1 ? '' : 's'}`;
  const slices = result.rows[0].slices;
  const notes = [
    `volume ${basename(volumePath)} (${describeVolume(volume)}), labels ${basename(labelsPath)}, structures ${structures.join(', ')}; ${axis} slices, ${prompt.kind} prompt on each structure's key slice, direction ${direction}, ${perDirection} per direction (${slices} slices per precision)`,
    'Dice vs f32: Dice of each precision\'s masks against the f32 masks (whole volume, and per slice where either mask is non-empty); rel-L2: teacher-forced component outputs against f32 on the first structure\'s key slice.',
    'peak GPU MB: the buffer pool\'s peak during propagation (weights included); slices/s: prompt + propagation wall time, pipelines compiled beforehand.',
    ...(synthetic ? ['The weights are synthetic (real shapes, random values): the Dice/NSD against the labels are meaningless; the agreement with f32 (Dice vs f32, rel-L2) and the size and speed are real.'] : []),
  ];
  const title = `Quantization study: ${info.config.arch} @ ${info.config.imageSize}`;
  mkdirSync(reportDir, { recursive: true });
  const md = quantReportMarkdown(result, { title, notes });
  writeFileAtomicSync(join(reportDir, 'quant-eval.json'), quantReportJson(result, { title, notes }));
  writeFileAtomicSync(join(reportDir, 'quant-eval.md'), md);
  writeFileAtomicSync(join(reportDir, 'quant-eval.png'), quantReportPng(result, { title, notes }));
  console.log(md);
  console.log(`report: ${join(reportDir, 'quant-eval.md')} (+ .json, .png)`);
  if (result.cancelled) {
    console.error(`cancelled: ${result.rows.length} of ${configs.length + 1} precisions evaluated`);
    return 130;
  }
  return 0;
}
