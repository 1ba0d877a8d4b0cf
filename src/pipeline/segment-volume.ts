// Promptable 3-D segmentation of a prepared volume: prompts (box, clicks or a mask) on slices of
// one axis, propagation through the volume with the video predictor (MedSAM2's protocol with
// direction 'both': forward and backward passes from the prompted slice, independent of each
// other), masks painted into one label map on the oriented grid, optional largest-component
// post-processing per object.

import type { Direction, SliceResult } from '../model/video-predictor.js';
import { Sam2Video } from '../model/video-predictor.js';
import type { Sam2Model } from '../model/sam2-model.js';
import type { Gpu } from '../runtime/gpu.js';
import { GpuDeviceLostError } from '../runtime/gpu-errors.js';
import { allocateLabels } from '../volume/nifti.js';
import { writeMaskSlice } from '../volume/slicing.js';
import { checkBox, checkPoints, checkSliceIndex, type Box, type Point } from '../volume/validate.js';
import type { LabelData } from '../volume/volume.js';
import { keepLargestComponent } from './largest-component.js';
import type { PreparedVolume } from './prepare-volume.js';
import { volumeSliceSource } from './slice-source.js';

export const DIRECTIONS: readonly Direction[] = ['both', 'forward', 'backward'];

/** The prompt of one object on one slice of a prepared volume. */
export interface ObjectPrompt {
  /** Object id and the label value its mask gets in the output (1, 2, ...). */
  label: number;
  /** Slice index along the prepared axis. */
  slice: number;
  /** [x0, y0, x1, y1], inclusive pixel corners on the slice. */
  box?: Box;
  /** Clicks; with a box they refine it. */
  points?: Point[];
  /** A binary mask (width × height) as the prompt; excludes box and points. */
  mask?: Uint8Array;
}

/** A GPU and model to continue on after the first device was lost. */
export interface ResumeEngine {
  /** The new GPU. */
  gpu: Gpu;
  /** The same weights, loaded on `gpu`. */
  model: Sam2Model;
}

/** Options of `VolumeSegmenter.propagate` / `segmentVolume`. */
export interface PropagationOptions {
  /** Default 'both' (MedSAM2's protocol: independent forward and backward passes). */
  direction?: Direction;
  /** Most slices tracked per pass, not counting the prompted one (default: to the volume's ends). */
  maxSlices?: number;
  /** Keep only the largest 26-connected component of each object (MedSAM2 post-processing). */
  largestComponent?: boolean;
  /** Called after each slice with the number done so far and the expected total. */
  onSlice?: (done: number, total: number, slice: number) => void;
  /** Aborting stops after the slice in progress; the slices done so far are kept. */
  signal?: AbortSignal;
  /**
   * Called when the GPU device is lost mid-propagation, with the error and the slices finished so
   * far: return a fresh GPU and model to resume on (the finished slices are kept), or null to fail.
   * Called at most `maxResumes` times (default 1).
   */
  onDeviceLost?: (error: GpuDeviceLostError, slicesDone: number) => Promise<ResumeEngine | null>;
  /** How many times `onDeviceLost` may be called in one propagation (default 1). */
  maxResumes?: number;
}

/** The label map a propagation produced and how it went. */
export interface PropagationResult {
  /** Label map on the oriented grid (see toSourceLabels for the file's grid). */
  labels: LabelData;
  /** Slice indices the model produced masks for, in processing order. */
  slices: number[];
  /** Wall time of the propagation, ms. */
  timeMs: number;
  /** The propagation was aborted (`signal`) before the end. */
  cancelled: boolean;
  /** Voxels dropped by largest-component post-processing, per object. */
  removedVoxels?: Map<number, number>;
}

/**
 * Number of slices the predictor yields (sam2_video_predictor.propagate_in_video's processing
 * order): a forward pass from `start` to min(start + max, n - 1), a backward pass from `start` down
 * to max(start - max, 0); 'both' yields the start slice once.
 */
export function propagationLength(numSlices: number, start: number, direction: Direction, maxSlices = numSlices): number {
  const forward = Math.min(start + maxSlices, numSlices - 1) - start + 1;
  const backward = start > 0 ? start - Math.max(start - maxSlices, 0) + 1 : 0;
  if (direction === 'forward') return forward;
  if (direction === 'backward') return backward;
  return forward + Math.max(0, backward - 1);
}

/** SAM takes box corners as coordinates: give a one-pixel-wide box some width so it is not empty. */
function boxCoordinates(box: Box): [number, number, number, number] {
  let [x0, y0, x1, y1] = box;
  if (x1 === x0) [x0, x1] = [x0 - 0.5, x1 + 0.5];
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  return [Math.max(0, x0), Math.max(0, y0), x1, y1];
}

/** Options of `VolumeSegmenter.create`. */
export interface SegmenterOptions {
  /** Per pixel only the most confident object keeps its mask (default: true with several objects). */
  nonOverlapMasks?: boolean;
  /** Slices encoded ahead of the memory chain (default: the predictor's). */
  lookahead?: number;
  /** Small background holes filled in every slice's mask (default: the model config's, see VideoOptions). */
  fillHoleArea?: number;
}

/** Segments a prepared volume: prompts per object, then propagation into one label map. */
export class VolumeSegmenter {
  private video: Sam2Video;
  /** The label map and slices of the propagation in progress (kept when it stops on an error). */
  private run: { labels: LabelData; slices: number[]; timeMs: number } | null = null;
  private readonly prompted = new Map<number, number>();
  private readonly promptMasks: Array<{ slice: number; label: number; mask: Uint8Array }> = [];

  private constructor(
    readonly prepared: PreparedVolume,
    video: Sam2Video,
  ) {
    this.video = video;
  }

  /** A segmenter over `prepared` with its own video session. */
  static create(gpu: Gpu, model: Sam2Model, prepared: PreparedVolume, options: SegmenterOptions = {}): VolumeSegmenter {
    const video = Sam2Video.create(gpu, model, model.root, volumeSliceSource(prepared, model), {
      nonOverlapMasks: options.nonOverlapMasks,
      lookahead: options.lookahead,
      fillHoleArea: options.fillHoleArea,
    });
    return new VolumeSegmenter(prepared, video);
  }

  /** Checks a prompt against the slice grid; throws an error naming the bad value. */
  static validatePrompt(prepared: PreparedVolume, p: ObjectPrompt): void {
    if (!Number.isInteger(p.label) || p.label < 1 || p.label > 65535) throw new Error(`object label must be an integer in 1..65535, got ${p.label}`);
    checkSliceIndex(p.slice, prepared.oriented.dims, prepared.axis);
    const { width, height } = prepared;
    if (p.mask) {
      if (p.box || p.points?.length) throw new Error(`object ${p.label}: a mask prompt cannot be combined with a box or points`);
      if (p.mask.length !== width * height) throw new Error(`object ${p.label}: mask has ${p.mask.length} pixels, a ${prepared.axis} slice has ${width}×${height}`);
      if (!p.mask.some((v) => v !== 0)) throw new Error(`object ${p.label}: the mask prompt is empty`);
      return;
    }
    if (!p.box && !p.points?.length) throw new Error(`object ${p.label}: needs a box, points or a mask`);
    if (p.box) checkBox(p.box, width, height);
    if (p.points?.length) checkPoints(p.points, width, height);
  }

  /** Adds one object's prompt; returns its mask (0/1, width × height) on the prompted slice. */
  async prompt(p: ObjectPrompt, opts: { keepPreviousPoints?: boolean } = {}): Promise<Uint8Array> {
    VolumeSegmenter.validatePrompt(this.prepared, p);
    let r: SliceResult;
    if (p.mask) {
      r = await this.video.addMask(p.slice, p.label, p.mask);
    } else if (p.box) {
      const pts = (p.points ?? []).map((q) => [q.x, q.y] as const);
      r = await this.video.addBox(p.slice, p.label, boxCoordinates(p.box), pts, (p.points ?? []).map((q) => q.label));
    } else {
      const pts = p.points!.map((q) => [q.x, q.y] as const);
      r = await this.video.addPoints(p.slice, p.label, pts, p.points!.map((q) => q.label), { clearOldPoints: !opts.keepPreviousPoints });
    }
    this.prompted.set(p.label, p.slice);
    const mask = r.masks[r.objIds.indexOf(p.label)];
    this.promptMasks.push({ slice: p.slice, label: p.label, mask });
    return mask;
  }

  /** The slice propagation starts from: the earliest prompted slice (the predictor's default). */
  get startSlice(): number {
    if (this.prompted.size === 0) throw new Error('no prompts were added; add a box, points or a mask first');
    return Math.min(...this.prompted.values());
  }

  /** How many slices `propagate(options)` will produce. */
  expectedSlices(options: PropagationOptions = {}): number {
    return propagationLength(this.prepared.count, this.startSlice, options.direction ?? 'both', options.maxSlices);
  }

  /** Propagates every object's prompts through the volume into one label map (label = object). */
  async propagate(options: PropagationOptions = {}): Promise<PropagationResult> {
    const { prepared } = this;
    const dims = prepared.oriented.dims;
    const direction = options.direction ?? 'both';
    if (options.maxSlices !== undefined && !(Number.isInteger(options.maxSlices) && options.maxSlices >= 0)) {
      throw new Error(`maxSlices must be a non-negative integer, got ${options.maxSlices}`);
    }
    const total = this.expectedSlices(options);
    const labelIds = [...this.prompted.keys()];
    // After a GPU failure and resumeOn, the interrupted propagation continues into the same map.
    const resuming = this.run !== null && this.video.interrupted;
    if (!resuming) {
      const labels = allocateLabels(dims[0] * dims[1] * dims[2], Math.max(...labelIds));
      // The prompted slices' own outputs first: a pass that does not revisit them still keeps them.
      for (const { slice, label, mask } of this.promptMasks) writeMaskSlice(labels, dims, prepared.axis, slice, mask, label);
      this.run = { labels, slices: [], timeMs: 0 };
    }
    const run = this.run!;
    const { labels, slices } = run;
    const onAbort = () => this.video.cancel();
    options.signal?.addEventListener('abort', onAbort);
    const t0 = performance.now();
    try {
      if (options.signal?.aborted) this.video.cancel();
      else {
        const results = resuming ? this.video.resumePropagation() : this.video.propagate({ direction, maxSlices: options.maxSlices });
        for await (const r of results) {
          r.objIds.forEach((id, i) => writeMaskSlice(labels, dims, prepared.axis, r.slice, r.masks[i], id));
          slices.push(r.slice);
          options.onSlice?.(slices.length, total, r.slice);
          if (options.signal?.aborted) break;
        }
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      run.timeMs += performance.now() - t0;
    }
    const timeMs = run.timeMs;
    this.run = null;
    const cancelled = !!options.signal?.aborted;
    let removedVoxels: Map<number, number> | undefined;
    if (options.largestComponent) {
      removedVoxels = new Map(labelIds.map((id) => [id, keepLargestComponent(labels, dims, id)]));
    }
    return { labels, slices, timeMs, cancelled, removedVoxels };
  }

  /** Slices finished by the propagation in progress (or interrupted). */
  get slicesDone(): number {
    return this.run?.slices.length ?? 0;
  }

  /**
   * Moves the predictor onto another GPU and model after the first device failed (see
   * Sam2Video.resumeOn); the next `propagate` call continues where the failed one stopped.
   */
  async resumeOn(gpu: Gpu, model: Sam2Model): Promise<void> {
    const next = await this.video.resumeOn(gpu, model, model.root, volumeSliceSource(this.prepared, model));
    this.video.dispose();
    this.video = next;
  }

  /** Frees the session's GPU memory. */
  dispose(): void {
    this.video.dispose();
  }
}

/** Prompts every object, propagates, and releases the predictor's state. */
export async function segmentVolume(
  gpu: Gpu,
  model: Sam2Model,
  prepared: PreparedVolume,
  prompts: ObjectPrompt[],
  options: PropagationOptions & SegmenterOptions = {},
): Promise<PropagationResult> {
  if (prompts.length === 0) throw new Error('at least one object prompt (box, points or mask) is required');
  for (const p of prompts) VolumeSegmenter.validatePrompt(prepared, p);
  const ids = prompts.map((p) => p.label);
  if (new Set(ids).size !== ids.length) throw new Error(`object labels must be distinct, got ${ids.join(', ')}`);
  const segmenter = VolumeSegmenter.create(gpu, model, prepared, {
    nonOverlapMasks: options.nonOverlapMasks ?? prompts.length > 1,
    lookahead: options.lookahead,
    fillHoleArea: options.fillHoleArea,
  });
  try {
    for (const p of prompts) await segmenter.prompt(p);
    let resumes = 0;
    for (;;) {
      try {
        return await segmenter.propagate(options);
      } catch (e) {
        if (!(e instanceof GpuDeviceLostError) || !options.onDeviceLost || resumes >= (options.maxResumes ?? 1)) throw e;
        resumes++;
        const engine = await options.onDeviceLost(e, segmenter.slicesDone);
        if (!engine) throw e;
        await segmenter.resumeOn(engine.gpu, engine.model);
      }
    }
  } finally {
    segmenter.dispose();
  }
}
