// Prompt inputs of the SAM heads: clicks with labels, a box (two corner points), an optional dense
// mask prompt. Ports the prompt handling of upstream sam2/sam2_video_predictor.py
// (`add_new_points_or_box`: box corners placed first with labels 2/3, `p / [W, H] · S` in float32)
// and sam2/utils/misc.py (`concat_points`).
import type { GpuTensor } from '../runtime/tensor.js';

/** Point labels as SAM 2 uses them. -1 (padding / "not a point") is added by the prompt encoder. */
export const POINT_LABEL = {
  padding: -1,
  negative: 0,
  positive: 1,
  boxTopLeft: 2,
  boxBottomRight: 3,
} as const;

/** Points (x, y interleaved, float32 like the official `point_coords`) with one int32 label each. */
export interface PointInputs {
  /** [N, 2] row-major (x, y). */
  points: Float32Array;
  /** [N]. */
  labels: Int32Array;
}

/** What the SAM heads decode one frame from. */
export interface SamPrompt {
  /**
   * Clicks / box corners in model pixels (0..imageSize), box corners first; absent = a tracked
   * frame (a single padding point, as `_forward_sam_heads` does).
   */
  points?: Float32Array;
  labels?: Int32Array;
  /**
   * Dense mask prompt: low-res mask logits [4F, 4F] (e.g. a previous output clamped to ±32,
   * or `mask_downsample` of a user mask). Stays on the GPU.
   */
  maskInput?: GpuTensor;
}

/** A user prompt as given in some pixel space (model or video pixels). */
export interface ClickPrompt {
  /** Clicks (x, y). */
  points?: ReadonlyArray<readonly [number, number]>;
  /** One label per click: 1 positive, 0 negative. */
  labels?: readonly number[];
  /** Box (x0, y0, x1, y1); becomes two points with labels 2, 3 placed before the clicks. */
  box?: readonly [number, number, number, number];
}

export class PromptError extends Error {
  override name = 'PromptError';
}

/** Number of prompt points (a box counts 2), as `_use_multimask` counts them. */
export function pointCount(p: { labels?: Int32Array }): number {
  return p.labels ? p.labels.length : 0;
}

/** Throws a PromptError naming the problem if `p` is not a valid set of points. */
export function validatePointInputs(p: PointInputs, what = 'points'): void {
  if (p.points.length !== 2 * p.labels.length) {
    throw new PromptError(`${what}: ${p.points.length / 2} coordinate pairs but ${p.labels.length} labels`);
  }
  for (let i = 0; i < p.labels.length; i++) {
    const l = p.labels[i];
    if (!Number.isInteger(l) || l < -1 || l > 3) {
      throw new PromptError(`${what}: label ${l} of point ${i} is not one of -1, 0, 1, 2, 3`);
    }
    const x = p.points[2 * i];
    const y = p.points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new PromptError(`${what}: point ${i} has a non-finite coordinate (${x}, ${y})`);
    }
  }
}

/**
 * Clicks and/or a box → point inputs in the same pixel space: box corners first (labels 2, 3), then
 * the clicks in order, as `add_new_points_or_box` builds them.
 */
export function pointsFromClicks(prompt: ClickPrompt): PointInputs {
  const clicks = prompt.points ?? [];
  const clickLabels = prompt.labels ?? [];
  if ((prompt.points === undefined) !== (prompt.labels === undefined)) {
    throw new PromptError('points and labels must be provided together');
  }
  if (clicks.length !== clickLabels.length) {
    throw new PromptError(`${clicks.length} points but ${clickLabels.length} labels`);
  }
  if (clicks.length === 0 && !prompt.box) throw new PromptError('a prompt needs at least one point or a box');
  for (const [i, l] of clickLabels.entries()) {
    if (l !== POINT_LABEL.negative && l !== POINT_LABEL.positive) {
      throw new PromptError(`click ${i}: label ${l} must be 1 (positive) or 0 (negative); boxes are given as box`);
    }
  }
  const n = clicks.length + (prompt.box ? 2 : 0);
  const points = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  let k = 0;
  if (prompt.box) {
    const [x0, y0, x1, y1] = prompt.box;
    points.set([x0, y0, x1, y1], 0);
    labels.set([POINT_LABEL.boxTopLeft, POINT_LABEL.boxBottomRight], 0);
    k = 2;
  }
  for (const [i, [x, y]] of clicks.entries()) {
    points[2 * (k + i)] = x;
    points[2 * (k + i) + 1] = y;
    labels[k + i] = clickLabels[i];
  }
  const out = { points, labels };
  validatePointInputs(out, 'prompt');
  return out;
}

/**
 * Video (or original-image) pixels → model pixels: `p / [W, H] · S` with float32 rounding after
 * each op, exactly as the predictor's `points / tensor([W, H]) * image_size`.
 */
export function toModelCoords(p: PointInputs, videoWidth: number, videoHeight: number, imageSize: number): PointInputs {
  if (!(videoWidth > 0 && videoHeight > 0)) throw new PromptError(`invalid video size ${videoWidth}x${videoHeight}`);
  validatePointInputs(p);
  const w = Math.fround(videoWidth);
  const h = Math.fround(videoHeight);
  const s = Math.fround(imageSize);
  const points = new Float32Array(p.points.length);
  for (let i = 0; i < p.labels.length; i++) {
    points[2 * i] = Math.fround(Math.fround(p.points[2 * i] / w) * s);
    points[2 * i + 1] = Math.fround(Math.fround(p.points[2 * i + 1] / h) * s);
  }
  return { points, labels: Int32Array.from(p.labels) };
}

/** `concat_points`: new points appended after the frame's existing ones (clear_old_points=False). */
export function concatPoints(old: PointInputs | undefined, added: PointInputs): PointInputs {
  if (!old) return { points: Float32Array.from(added.points), labels: Int32Array.from(added.labels) };
  const points = new Float32Array(old.points.length + added.points.length);
  points.set(old.points, 0);
  points.set(added.points, old.points.length);
  const labels = new Int32Array(old.labels.length + added.labels.length);
  labels.set(old.labels, 0);
  labels.set(added.labels, old.labels.length);
  return { points, labels };
}
