// The video predictor's `fill_hole_area` post-processing (upstream sam2_video_predictor.py
// `_run_single_frame_inference` → sam2/utils/misc.py `fill_holes_in_mask_scores`): background
// components (logit <= 0, 8-connected) of at most `maxArea` low-res pixels become logit 0.1. It
// runs on the GPU with the rest of the slice, over any number of masks at once ([..., H, W]).
import { fillHolesInto } from '../kernels/fill-holes/fill-holes.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';

/**
 * A new tensor holding `logits` with the small holes filled; `logits` is left as it is. With
 * `maxArea` 0 (upstream's "off") nothing is recorded and the result is a copy-free alias: callers
 * must test `maxArea > 0` themselves when they own and release the input.
 */
export function fillHoles(gpu: Gpu, logits: GpuTensor, maxArea: number): GpuTensor {
  if (!Number.isInteger(maxArea) || maxArea < 0) throw new Error(`fillHoleArea must be a non-negative integer, got ${maxArea}`);
  if (maxArea === 0) return logits;
  const out = gpu.empty(logits.shape, logits.dtype, 'holes-filled');
  const parent = gpu.empty([logits.size], 'u32', 'fill-holes-parent');
  const count = gpu.empty([logits.size], 'u32', 'fill-holes-count');
  fillHolesInto(gpu, { src: logits, out, parent, count, maxArea });
  parent.release();
  count.release();
  return out;
}
