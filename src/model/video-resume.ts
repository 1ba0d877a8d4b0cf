// Resuming a propagation on a new device (after a device loss or an out-of-memory error): what a
// Sam2Video keeps on the host per finished slice (low-res logits, object score, object pointer,
// and how its memory was encoded) is enough to rebuild the memory bank bit for bit on the new
// device, by re-encoding the few memories the bank still holds. Nothing is re-propagated.
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { Sam2Config } from './config.js';
import type { SliceSource } from './feature-scheduler.js';
import type { ImageFeatures, Sam2Parts } from './sam2-parts.js';

/** The host side of one slice's output for one object (see Sam2Video's FrameOut). */
export interface ResumableOutput {
  lowResHost: Float32Array;
  objectScoreLogit: number;
  objPtrHost: Float32Array;
  /** A mask prompt's model-size mask: its high-res masks are the mask itself, not upsampled logits. */
  maskPrompt?: Float32Array;
  /** Whether the memory encoder binarized the mask (set once the output is in the bank). */
  memBinarize?: boolean;
  /**
   * The low-res logits the memory was encoded from, where they differ from lowResHost: a tracked
   * slice's memory is encoded before fill_hole_area fills the holes of the stored logits.
   */
  memLowResHost?: Float32Array;
}

/** Refuses a resume target that is not the same model on the same volume. */
export function checkResumeTarget(from: { config: Sam2Config; source: SliceSource }, to: { config: Sam2Config; source: SliceSource }): void {
  const a = from.config;
  const b = to.config;
  if (a.arch !== b.arch || a.imageSize !== b.imageSize || a.version !== b.version) {
    throw new Error(`resume: the new model is ${b.arch} at ${b.imageSize} px, the interrupted run used ${a.arch} at ${a.imageSize} px`);
  }
  const s = from.source;
  const t = to.source;
  if (s.numFrames !== t.numFrames || s.width !== t.width || s.height !== t.height) {
    throw new Error(`resume: the new volume has ${t.numFrames} slices of ${t.width}×${t.height}, the interrupted run had ${s.numFrames} of ${s.width}×${s.height}`);
  }
}

/**
 * The high-res masks and object pointer of an output, recreated on the current device: from the
 * mask prompt (as `maskAsOutput` makes them) or by upsampling the low-res logits (as `decode` does).
 */
export async function recreateHeads(gpu: Gpu, parts: Sam2Parts, feats: ImageFeatures, out: ResumableOutput): Promise<{ highRes: GpuTensor; objPtr: GpuTensor }> {
  const cfg = parts.config;
  const objPtr = gpu.upload(out.objPtrHost, [cfg.hiddenDim], 'f32', 'obj_ptr');
  if (out.maskPrompt) {
    const mask = gpu.upload(out.maskPrompt, [cfg.imageSize, cfg.imageSize], 'f32', 'mask_prompt');
    const heads = await parts.maskAsOutput(feats, mask);
    mask.release();
    heads.lowResMasks.release();
    heads.objPtr.release();
    return { highRes: heads.highResMasks, objPtr };
  }
  const low = gpu.upload(out.lowResHost, [cfg.lowResMaskSize, cfg.lowResMaskSize], 'f32', 'low_res_masks');
  const highRes = parts.upsampleLowRes(low);
  low.release();
  return { highRes, objPtr };
}

/** The memory of a stored output, re-encoded on the current device (the caller stores and releases it). */
export async function reencodeMemory(gpu: Gpu, parts: Sam2Parts, feats: ImageFeatures, out: ResumableOutput): Promise<{ memory: GpuTensor; objPtr: GpuTensor }> {
  if (out.memBinarize === undefined) throw new Error('resume: an output in the memory bank has no record of how its memory was encoded');
  const { highRes, objPtr } = await recreateHeads(gpu, parts, feats, { ...out, lowResHost: out.memLowResHost ?? out.lowResHost });
  const memory = parts.encodeMemory(feats.l2, highRes, out.memBinarize, out.objectScoreLogit);
  highRes.release();
  return { memory, objPtr };
}
