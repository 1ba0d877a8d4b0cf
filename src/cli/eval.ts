// `sam2-webgpu eval VOLUME --labels GT --weights W --structures 37,38`: evaluates promptable 3-D
// segmentation against ground-truth labels (MedSAM2 protocol: prompt on each structure's key
// slice, propagate both ways), writes report.json, report.md and overlay PNGs, prints the table.

import { PRECISION_HELP, PRECISION_OPTIONS, precisionOption } from './precision-option.js';
import { precisionLabel } from '../model/precision.js';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseLabelNames, reportToMarkdown } from '../eval/report.js';
import { parseCli, UsageError } from '../../weights-tools/cli-args.js';
import { checkStructuresPresent, evaluateVolume, parsePromptMode, promptModeName } from '../pipeline/evaluate-volume.js';
import { checkOutputFile, checkReportDir, loadEngine, readVolumeInput, readWeightsInfo, writeLabelsFile, writeReportFiles } from '../pipeline/node-io.js';
import { orientLike, prepareVolume, toSourceLabels } from '../pipeline/prepare-volume.js';
import { checkSameGeometry } from '../volume/validate.js';
import { ProgressBar } from './progress.js';
import {
  describeVolume,
  explainGpuFailure,
  formatRate,
  maxSlicesOption,
  parseAxisOption,
  parseDirection,
  parseWindowOption,
  VOLUME_FILE_OPTIONS,
  volumeFileOptions,
  WINDOW_HELP,
  withInterrupt,
} from './segment.js';

/** Without --structures, label maps with more structures than this must name the ones wanted. */
const MAX_DEFAULT_STRUCTURES = 10;

export const USAGE = `usage: sam2-webgpu eval VOLUME --labels LABELS --weights FILE [--structures L1,L2,...] [options]

Evaluates SAM 2 on a volume with ground-truth labels, one structure at a time (MedSAM2's 3-D
protocol): a prompt simulated on the structure's key slice (largest area), propagation forward and
backward, then Dice, IoU, NSD and HD95 per structure. Writes report.json, report.md and overlay
PNGs into --report-dir and prints the Markdown table.
  VOLUME                 .nii / .nii.gz file, or a folder holding one DICOM series
  --labels FILE          ground-truth label map on the same grid as VOLUME
  --weights FILE         SAM 2 weights (.safetensors)
  --structures L1,L2     label values to evaluate (default: all, when there are at most ${MAX_DEFAULT_STRUCTURES})
  --names FILE           label names, "value name" per line (e.g. MRIcron's aal.nii.txt)
  --prompt P             box (default), mask (the key slice's ground truth), or clicks:K
                         (centre click + K-1 corrective clicks on the key slice)
  --jitter PX            grow the box by a random 0..PX pixels (MedSAM; default 0)
  --seed N               seed of the jitter (default 0)
  --axis A               axial (default), coronal or sagittal
  --window W             intensity window (see below)
  --direction D          both (default), forward or backward
  --max-slices N         most slices to track in each direction (default: to the ends)
  --largest-component    keep only the largest 3-D connected component (MedSAM2 post-processing)
  --series UID           DICOM folder holding several series: the SeriesInstanceUID to read
  --frame N              4D NIfTI: the frame (0-based) to evaluate
  --max-volume-mb N      largest uncompressed volume accepted (default 2048)
  --nsd-tolerance MM     NSD tolerance (default 2 mm)
  --overlays N           overlay pictures per structure (default 3; 0 for none)
  --report-dir DIR       where the report goes (default eval-report)
  --out FILE             also write the predicted labels (.nii.gz) on the volume's grid
  --force                replace --out if it already exists
  --quiet                no progress display
${PRECISION_HELP}

${WINDOW_HELP}`;

function parseStructures(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  const out = parts.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1) throw new UsageError(`--structures: "${p}" is not a positive label value`, USAGE);
    return Number(p);
  });
  if (out.length === 0) throw new UsageError('--structures needs at least one label value', USAGE);
  return [...new Set(out)];
}

function nonNegativeNumber(values: Record<string, unknown>, name: string, fallback: number, integer = false): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  // Plain decimals only: Number() also reads "0x10" as 16 and "1e3" as 1000.
  const decimal = typeof raw === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(raw);
  if (typeof raw !== 'string' || !decimal || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be a non-negative ${integer ? 'integer' : 'number'}, got "${String(raw)}"`, USAGE);
  }
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCli(
    argv,
    {
      labels: { type: 'string' },
      weights: { type: 'string' },
      structures: { type: 'string' },
      names: { type: 'string' },
      prompt: { type: 'string' },
      jitter: { type: 'string' },
      seed: { type: 'string' },
      axis: { type: 'string' },
      window: { type: 'string' },
      direction: { type: 'string' },
      'max-slices': { type: 'string' },
      'largest-component': { type: 'boolean' },
      ...VOLUME_FILE_OPTIONS,
      'nsd-tolerance': { type: 'string' },
      overlays: { type: 'string' },
      'report-dir': { type: 'string' },
      out: { type: 'string' },
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
  if (typeof values.labels !== 'string') throw new UsageError('--labels is required', USAGE);
  if (typeof values.weights !== 'string') throw new UsageError('--weights is required', USAGE);
  const labelsPath = values.labels;
  const weightsPath = values.weights;
  const precision = precisionOption(values, USAGE);
  const axis = parseAxisOption(values, USAGE);
  const direction = parseDirection(values, USAGE);
  const maxSlices = maxSlicesOption(values, USAGE);
  const window = parseWindowOption(values);
  const fileOptions = volumeFileOptions(values, USAGE);
  let prompt;
  try {
    prompt = parsePromptMode(typeof values.prompt === 'string' ? values.prompt : 'box');
  } catch (e) {
    throw new UsageError(`--prompt: ${(e as Error).message}`, USAGE);
  }
  const jitter = nonNegativeNumber(values, 'jitter', 0, true);
  const seed = nonNegativeNumber(values, 'seed', 0, true);
  const nsdToleranceMm = nonNegativeNumber(values, 'nsd-tolerance', 2);
  const overlaysPerStructure = nonNegativeNumber(values, 'overlays', 3, true);
  let structures = typeof values.structures === 'string' ? parseStructures(values.structures) : undefined;
  const reportDir = typeof values['report-dir'] === 'string' ? values['report-dir'] : 'eval-report';
  const outPath = typeof values.out === 'string' ? values.out : undefined;
  const quiet = values.quiet === true;
  const inputs = [volumePath, labelsPath, weightsPath];

  // Cheap checks first: outputs, weights header, names, both volumes, their grids, the structures.
  if (outPath) checkOutputFile(outPath, inputs, values.force === true);
  checkReportDir(reportDir, inputs);
  const weights = await readWeightsInfo(weightsPath);
  let names: Map<number, string> | undefined;
  if (typeof values.names === 'string') {
    if (!existsSync(values.names)) throw new Error(`names ${values.names}: no such file`);
    names = parseLabelNames(readFileSync(values.names, 'utf8'));
    if (names.size === 0) throw new Error(`names ${values.names}: no "value name" lines found`);
  }
  const volume = readVolumeInput(volumePath, 'image', fileOptions);
  const labels = readVolumeInput(labelsPath, 'labels', { maxBytes: fileOptions.maxBytes });
  checkSameGeometry(volume, labels, [`image ${volumePath}`, `labels ${labelsPath}`]);
  if (!structures) {
    const present = new Set<number>();
    for (let i = 0; i < labels.data.length; i++) if (labels.data[i]) present.add(labels.data[i]);
    if (present.size === 0) throw new Error(`labels ${labelsPath}: the label map is empty (all zeros)`);
    if (present.size > MAX_DEFAULT_STRUCTURES) {
      throw new UsageError(`labels ${labelsPath} holds ${present.size} structures; choose some with --structures (e.g. --structures ${[...present].sort((a, b) => a - b).slice(0, 2).join(',')})`, USAGE);
    }
    structures = [...present].sort((a, b) => a - b);
  }
  checkStructuresPresent(labels.data, structures, `labels ${labelsPath}`);

  const prepared = prepareVolume(volume, { axis, window });
  const gt = orientLike(prepared, labels.data);
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  log(`image ${volumePath}: ${describeVolume(volume)}`);
  log(`slices: ${prepared.count} ${axis} of ${prepared.width}×${prepared.height} (LPS); window ${prepared.window.name}${prepared.window.reason ? ` (${prepared.window.reason})` : ''}`);
  log(`weights ${weightsPath}: ${weights.config.arch} at ${weights.config.imageSize} px; prompt ${promptModeName(prompt)}, direction ${direction}`);

  const engine = await loadEngine(weightsPath, precision);
  let result;
  try {
    log(`device: ${engine.gpu.adapterName}${precision.precision ? `; precision ${precisionLabel(engine.model.precision)}` : ''}`);
    let bar: ProgressBar | null = null;
    result = await withInterrupt((signal) =>
      evaluateVolume(engine.gpu, engine.model, prepared, gt, {
        structures: structures!,
        prompt,
        jitter,
        seed,
        direction,
        maxSlices,
        largestComponent: values['largest-component'] === true,
        nsdToleranceMm,
        names,
        overlaysPerStructure,
        signal,
        title: `SAM 2 evaluation: ${basename(volumePath)}`,
        meta: {
          labels: basename(labelsPath),
          weights: basename(weightsPath),
          model: `${weights.config.arch} @ ${weights.config.imageSize} px`,
          device: engine.gpu.adapterName,
          precision: precisionLabel(engine.model.precision),
        },
        onStructure: (s) => {
          bar?.finish();
          const title = `[${s.index + 1}/${s.count}] label ${s.label}${s.name ? ` ${s.name}` : ''}`;
          log(`${title}: key ${axis} slice ${s.keySlice}`);
          bar = quiet ? null : new ProgressBar({ total: s.expectedSlices, label: title });
        },
        onSlice: (done, total) => bar?.update(done, total),
      }),
    );
    (bar as ProgressBar | null)?.finish();
  } catch (e) {
    throw explainGpuFailure(e);
  } finally {
    engine.release();
  }
  if (result.report.structures.length === 0) {
    console.error('cancelled before any structure was finished; nothing written');
    return 130;
  }
  const written = writeReportFiles(reportDir, result);
  if (outPath) writeLabelsFile(outPath, toSourceLabels(prepared, result.predicted), `sam2-webgpu eval ${weights.config.arch}`);
  console.log(reportToMarkdown(result.report));
  console.log(formatRate(result.slices, result.timeMs, String(result.report.meta?.device ?? '')));
  console.log(`report: ${join(reportDir, 'report.md')} (${written.length} files)${outPath ? `; labels: ${outPath}` : ''}`);
  if (result.cancelled) {
    console.error(`cancelled: ${result.report.structures.length} of ${structures.length} structures evaluated`);
    return 130;
  }
  return 0;
}
