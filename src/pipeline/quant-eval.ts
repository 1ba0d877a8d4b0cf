// Quantization study on one volume: the same weights at f32 and at a list of precisions, the same
// simulated prompts, side by side. Per precision, on a fresh device (so memory peaks are its own):
//   1. teacher-forced component rel-L2 against f32 on the first structure's key slice
//      (component-fidelity.ts; this also compiles the pipelines before anything is timed, and the
//      first run adds an untimed one-slice propagation for the kernels the components do not use);
//   2. the evaluation flow of evaluate-volume.ts (prompt on each structure's key slice, propagation);
//   3. weights bytes on the GPU, peak pool bytes during propagation, slices/s, Dice/NSD against the
//      labels, and per-slice and whole-volume Dice of the masks against the f32 masks.
import { captureReference, compareComponents, type ComponentErrors, type ComponentReference } from '../eval/component-fidelity.js';
import { simulatePrompt } from '../eval/prompts.js';
import type { Sam2Config } from '../model/config.js';
import { precisionLabel, resolvePrecision } from '../model/precision.js';
import { pointsFromClicks } from '../model/prompts.js';
import { Sam2Model } from '../model/sam2-model.js';
import { createGpu } from '../node.js';
import { extractLabelMask } from '../volume/slicing.js';
import type { LabelData, VoxelData } from '../volume/volume.js';
import { evaluateVolume, type EvaluationOptions, type PromptMode } from './evaluate-volume.js';
import type { PreparedVolume } from './prepare-volume.js';

export interface QuantEvalOptions extends Pick<EvaluationOptions, 'structures' | 'direction' | 'maxSlices' | 'nsdToleranceMm' | 'signal'> {
  /** Precisions to compare with f32 (precision.ts text form, e.g. `int4-g64` or `encoder=int8,act=f16`). */
  configs: string[];
  prompt?: PromptMode;
  /** Run f16 activations in f32 where the adapter lacks shader-f16. */
  fallback?: boolean;
  onConfig?: (info: { index: number; count: number; precision: string }) => void;
  onSlice?: (done: number, total: number) => void;
}

export interface AgreementWithF32 {
  /** Whole-volume Dice against the f32 masks, mean over structures. */
  volumeDice: number;
  /** Dice of each slice either mask covers, mean and minimum over slices and structures. */
  sliceDiceMean: number;
  sliceDiceMin: number;
}

export interface QuantEvalRow {
  /** The precision as given ('f32' for the reference). */
  precision: string;
  /** Resolved, normalised form (precisionLabel). */
  resolved: string;
  weightsBytes: number;
  weightsByFormat: Record<string, number>;
  /** Peak bytes of the buffer pool during propagation (weights included). */
  peakGpuBytes: number;
  slices: number;
  slicesPerSecond: number;
  /** Mean over structures, against the labels. */
  dice: number;
  nsd: number;
  /** Against the f32 run (1 for f32 itself). */
  agreement: AgreementWithF32;
  /** Teacher-forced component rel-L2 against f32 on the first structure's key slice (0 for f32). */
  components: ComponentErrors;
}

export interface QuantEvalResult {
  adapter: string;
  model: string;
  rows: QuantEvalRow[];
  cancelled: boolean;
}

function dice(a: Uint8Array, b: Uint8Array): number | null {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i]) sa++;
    if (b[i]) sb++;
    if (a[i] && b[i]) inter++;
  }
  return sa + sb === 0 ? null : (2 * inter) / (sa + sb);
}

/** Agreement of two predicted label volumes (value = structure label) over the given structures. */
export function agreement(pred: LabelData, ref: LabelData, prepared: PreparedVolume, structures: number[]): AgreementWithF32 {
  const dims = prepared.oriented.dims;
  const vol: number[] = [];
  const perSlice: number[] = [];
  for (const label of structures) {
    const a = Uint8Array.from(pred, (v) => (v === label ? 1 : 0));
    const b = Uint8Array.from(ref, (v) => (v === label ? 1 : 0));
    vol.push(dice(a, b) ?? 1);
    for (let s = 0; s < prepared.count; s++) {
      const d = dice(extractLabelMask(a, dims, prepared.axis, s, 1), extractLabelMask(b, dims, prepared.axis, s, 1));
      if (d !== null) perSlice.push(d);
    }
  }
  const mean = (v: number[]) => (v.length ? v.reduce((x, y) => x + y, 0) / v.length : 1);
  return { volumeDice: mean(vol), sliceDiceMean: mean(perSlice), sliceDiceMin: perSlice.length ? Math.min(...perSlice) : 1 };
}

const ZERO: ComponentErrors = { encoder: 0, memattn: 0, memenc: 0, decoder: 0 };

export async function quantEval(weights: Uint8Array, config: Sam2Config, prepared: PreparedVolume, gt: VoxelData, options: QuantEvalOptions): Promise<QuantEvalResult> {
  const precisions = ['f32', ...options.configs.filter((c) => c !== 'f32')];
  for (const p of precisions) resolvePrecision(p === 'f32' ? 'all=f32' : p); // fail on a bad config before any work
  const first = options.structures[0];
  const sim = simulatePrompt(gt, prepared.oriented.dims, prepared.axis, first, {});
  const S = config.imageSize;
  const [x0, y0, x1, y1] = sim.box;
  // The key slice's box in model pixels (as the video predictor maps slice pixels).
  const sx = (x: number) => Math.fround(Math.fround(x / prepared.width) * S);
  const sy = (y: number) => Math.fround(Math.fround(y / prepared.height) * S);
  const prompt = pointsFromClicks({ box: [sx(x0), sy(y0), sx(Math.max(x1, x0 + 1)), sy(Math.max(y1, y0 + 1))] });

  const rows: QuantEvalRow[] = [];
  let reference: ComponentReference | null = null;
  let refPred: LabelData | null = null;
  let adapter = '';
  let cancelled = false;
  for (const [index, precision] of precisions.entries()) {
    if (options.signal?.aborted) {
      cancelled = true;
      break;
    }
    options.onConfig?.({ index, count: precisions.length, precision });
    const gpu = await createGpu();
    adapter = gpu.adapterName;
    try {
      const model = await Sam2Model.load(gpu, weights, { config, precision: precision === 'f32' ? 'all=f32' : precision, fallback: options.fallback });
      try {
        // 1. Components on the key slice (also compiles every pipeline before the timed run).
        const image = model.preprocess({ pixels: prepared.slice(sim.sliceIndex), width: prepared.width, height: prepared.height, channels: 1 });
        let components = ZERO;
        if (!reference) reference = await captureReference(model, image, prompt);
        else components = await compareComponents(model, reference);
        image.release();
        // The first run also compiles the precision-independent kernels of propagation (memory
        // bank, selection, resizing): one untimed slice each way, so its timing is comparable.
        if (index === 0) {
          await evaluateVolume(gpu, model, prepared, gt, { structures: [first], prompt: options.prompt ?? { kind: 'box' }, direction: 'both', maxSlices: 1, overlaysPerStructure: 0 });
        }
        await gpu.sync();
        // Peak during propagation: drop the free buffers of step 1, restart the peak from what stays.
        gpu.pool.trim();
        gpu.pool.resetPeak();

        // 2. The evaluation flow.
        const res = await evaluateVolume(gpu, model, prepared, gt, {
          structures: options.structures,
          prompt: options.prompt ?? { kind: 'box' },
          direction: options.direction,
          maxSlices: options.maxSlices,
          nsdToleranceMm: options.nsdToleranceMm,
          overlaysPerStructure: 0,
          signal: options.signal,
          onSlice: (done, total) => options.onSlice?.(done, total),
        });
        if (res.cancelled) {
          cancelled = true;
          break;
        }
        refPred ??= res.predicted;
        const st = res.report.structures;
        rows.push({
          precision,
          resolved: precision === 'f32' ? 'f32' : precisionLabel(model.precision),
          weightsBytes: model.weights.uploadedBytes,
          weightsByFormat: model.weights.bytesByFormat(),
          peakGpuBytes: gpu.pool.stats.peakBytes,
          slices: res.slices,
          slicesPerSecond: res.slices / (res.timeMs / 1000),
          dice: st.reduce((a, s) => a + s.dice, 0) / st.length,
          nsd: st.reduce((a, s) => a + s.nsd, 0) / st.length,
          agreement: agreement(res.predicted, refPred, prepared, options.structures),
          components,
        });
      } finally {
        model.release();
      }
    } finally {
      gpu.destroy();
    }
  }
  return { adapter, model: `${config.arch} @ ${config.imageSize} px`, rows, cancelled };
}

