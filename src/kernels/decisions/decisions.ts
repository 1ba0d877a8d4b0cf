// Launchers of the SAM-heads decisions on the GPU (see decisions.wgsl.ts). A `decide` launch
// writes one flag record per object; the gathers, the object-pointer blend, the memory encoder's
// no-object term and the output-mask kernel read it, so a tracked slice needs no host decision.
// Every launcher takes a leading object-batch dimension B.
import { resizeScale } from '../resize/resize-params.js';
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { decideSource, gatherSource, maskOutputSource, noObjectTermSource, objPtrBlendSource } from './decisions.wgsl.js';

const WG = 256;

/** Word offsets in one object's flag record (u32; f32 values as bits). IoUs start at FLAG.iou. */
export const FLAG = {
  present: 0,
  selected: 1,
  first: 2,
  token: 3,
  best: 4,
  stable: 5,
  areaI: 6,
  areaU: 7,
  stability: 8,
  lambda: 9,
  score: 10,
  iou: 12,
} as const;

/** Words per object in the flag buffer for `numMasks` candidate masks. */
export function flagStride(numMasks: number): number {
  return FLAG.iou + numMasks;
}

/** Which outputs the decoder selects (upstream `MaskDecoder.forward`). */
export type SelectMode = 'single' | 'multimask' | 'dynamic';
const MODE_CODE: Record<SelectMode, number> = { single: 0, multimask: 1, dynamic: 2 };

export interface DecideOptions {
  mode: SelectMode;
  /** dynamic_multimask_stability_delta and _thresh (dynamic mode). */
  delta: number;
  thresh: number;
  /** pred_obj_scores: gate on score > 0; else every object is present (λ = 1). */
  predObjScores: boolean;
  /** use_multimask_token_for_obj_ptr (multimask mode). */
  multimaskToken: boolean;
  /** soft_no_obj_ptr: λ = σ(score) instead of (score > 0). */
  softNoObjPtr: boolean;
}

/** masks [B, NM, H, W], iou [B, NM], score [B, 1] → flags u32 [B, flagStride(NM)]. */
export function decideProgram(masks: GpuTensor, iou: GpuTensor, score: GpuTensor, flags: GpuTensor, o: DecideOptions): KernelProgram {
  const name = `decisions-decide-${masks.dtype}`;
  check(masks.shape.length === 4, name, `masks must be [B, NM, H, W], got ${shapeStr(masks.shape)}`);
  const [b, nm, h, w] = masks.shape;
  const p = h * w;
  check(iou.dtype === masks.dtype && score.dtype === masks.dtype, name, 'masks, iou and score must share one float dtype');
  check(iou.size === b * nm, name, `iou ${shapeStr(iou.shape)} must hold [${b}, ${nm}]`);
  check(score.size === b, name, `score ${shapeStr(score.shape)} must hold one value per object (${b})`);
  check(flags.dtype === 'u32' && flags.size === b * flagStride(nm), name, `flags must be u32 [${b}, ${flagStride(nm)}], got ${flags.dtype} ${shapeStr(flags.shape)}`);
  check(nm >= 1 && (o.mode !== 'multimask' || nm >= 2), name, `${nm} candidate masks cannot give a ${o.mode} output`);
  check(p < 2 ** 24, name, `masks of ${p} pixels are too large for exact stability counts`);
  check(o.mode !== 'dynamic' || (Number.isFinite(o.delta) && o.delta >= 0 && Number.isFinite(o.thresh)), name, 'dynamic mode needs a finite delta ≥ 0 and threshold');
  check(b <= 65535, name, `${b} objects exceed one dispatch dimension`);
  return {
    name,
    source: () => decideSource(masks.dtype),
    constants: { WG },
    bindings: [masks, iou, score, flags],
    uniforms: uniforms([
      ['u32', nm], ['u32', p], ['u32', MODE_CODE[o.mode]], ['u32', flagStride(nm)],
      ['f32', o.delta], ['f32', -o.delta], ['f32', o.thresh], ['u32', o.predObjScores ? 1 : 0],
      ['u32', o.multimaskToken ? 1 : 0], ['u32', o.softNoObjPtr ? 1 : 0], ['u32', 0], ['u32', 0],
    ]),
    workgroups: [b, 1, 1],
    flops: o.mode === 'dynamic' ? 2 * b * p : b * nm,
  };
}

export function decide(gpu: Gpu, masks: GpuTensor, iou: GpuTensor, score: GpuTensor, o: DecideOptions, out?: GpuTensor): GpuTensor {
  const [b, nm] = masks.shape;
  const flags = out ?? gpu.empty([b, flagStride(nm)], 'u32', 'decision-flags');
  gpu.run(decideProgram(masks, iou, score, flags, o));
  return flags;
}

/** Flag word a gather reads its first row from. */
export type GatherField = 'selected' | 'first' | 'token';

export interface GatherOptions {
  /** The flag word holding each object's first row. */
  field: GatherField;
  /** Rows per object to take (M). */
  count: number;
  /** Write `fill` for absent objects (object-score gating). */
  gateFill?: number;
}

/** src [B, R, ...row] + flags → out [B, M, ...row] (rows chosen per object by the flags). */
export function gatherProgram(src: GpuTensor, flags: GpuTensor, out: GpuTensor, o: GatherOptions): KernelProgram {
  const name = `decisions-gather-${src.dtype}`;
  check(src.shape.length >= 2, name, `src must be [B, R, ...], got ${shapeStr(src.shape)}`);
  const [b, rows] = src.shape;
  const len = src.size / (b * rows);
  check(out.dtype === src.dtype, name, `dtypes differ (${src.dtype} vs ${out.dtype})`);
  check(src.dtype === 'f32' || src.dtype === 'f16', name, `float tensors only, got ${src.dtype}`);
  check(Number.isInteger(o.count) && o.count >= 1 && o.count <= rows, name, `count ${o.count} must lie in 1..${rows}`);
  check(out.size === b * o.count * len, name, `out ${shapeStr(out.shape)} must hold [${b}, ${o.count}, ${len}]`);
  check(flags.dtype === 'u32' && flags.size % b === 0, name, `flags must be u32 with one record per object (${b}), got ${flags.dtype} ${shapeStr(flags.shape)}`);
  check(src.buffer !== out.buffer, name, 'src and out must be different buffers');
  return {
    name,
    source: () => gatherSource(src.dtype),
    constants: { WG },
    bindings: [src, flags, out],
    uniforms: uniforms([
      ['u32', out.size], ['u32', rows], ['u32', len], ['u32', o.count],
      ['u32', FLAG[o.field]], ['u32', flags.size / b], ['u32', o.gateFill === undefined ? 0 : 1], ['f32', o.gateFill ?? 0],
    ]),
    workgroups: dispatch1d(out.size, WG),
    bytes: out.size * 8,
  };
}

/** A new [B, M, ...row] tensor of the rows the flags choose (see GatherOptions). */
export function gather(gpu: Gpu, src: GpuTensor, flags: GpuTensor, o: GatherOptions, label = 'gathered'): GpuTensor {
  const out = gpu.empty([src.shape[0], o.count, ...src.shape.slice(2)], src.dtype, label);
  gpu.run(gatherProgram(src, flags, out, o));
  return out;
}

/** ptr [B, C] f32, noObjPtr [C] f32 → out [B, C]: the official object-pointer blend with λ from the flags. */
export function objPtrBlendProgram(ptr: GpuTensor, noObjPtr: GpuTensor, flags: GpuTensor, out: GpuTensor, fixedNoObjPtr: boolean): KernelProgram {
  const name = 'decisions-obj-ptr-f32';
  check(ptr.dtype === 'f32' && noObjPtr.dtype === 'f32' && out.dtype === 'f32', name, 'pointers are f32');
  check(ptr.shape.length === 2, name, `ptr must be [B, C], got ${shapeStr(ptr.shape)}`);
  const [b, c] = ptr.shape;
  check(noObjPtr.size === c, name, `no_obj_ptr ${shapeStr(noObjPtr.shape)} must hold ${c} values`);
  check(out.size === ptr.size, name, `out ${shapeStr(out.shape)} must match ptr ${shapeStr(ptr.shape)}`);
  check(flags.dtype === 'u32' && flags.size % b === 0, name, `flags must be u32 with one record per object (${b})`);
  return {
    name,
    source: objPtrBlendSource,
    constants: { WG },
    bindings: [ptr, noObjPtr, flags, out],
    uniforms: uniforms([['u32', ptr.size], ['u32', c], ['u32', flags.size / b], ['u32', fixedNoObjPtr ? 1 : 0]]),
    workgroups: dispatch1d(ptr.size, WG),
  };
}

export function objPtrBlend(gpu: Gpu, ptr: GpuTensor, noObjPtr: GpuTensor, flags: GpuTensor, fixedNoObjPtr: boolean): GpuTensor {
  const out = gpu.empty(ptr.shape, 'f32', 'obj-ptr');
  gpu.run(objPtrBlendProgram(ptr, noObjPtr, flags, out, fixedNoObjPtr));
  return out;
}

/** In place on x [B, N, C]: + embed [C] for every object whose flag says absent. */
export function noObjectTermProgram(x: GpuTensor, embed: GpuTensor, flags: GpuTensor, numObjects: number): KernelProgram {
  const name = `decisions-no-object-${x.dtype}`;
  const c = embed.size;
  check(x.dtype === embed.dtype, name, `x (${x.dtype}) and the embedding (${embed.dtype}) must share a dtype`);
  check(x.dtype === 'f32' || x.dtype === 'f16', name, `float tensors only, got ${x.dtype}`);
  check(Number.isInteger(numObjects) && numObjects >= 1 && x.size % (numObjects * c) === 0, name, `x ${shapeStr(x.shape)} is not ${numObjects} objects of [N, ${c}]`);
  check(flags.dtype === 'u32' && flags.size % numObjects === 0, name, `flags must be u32 with one record per object (${numObjects})`);
  return {
    name,
    source: () => noObjectTermSource(x.dtype),
    constants: { WG },
    bindings: [x, embed, flags],
    uniforms: uniforms([['u32', x.size], ['u32', c], ['u32', x.size / numObjects], ['u32', flags.size / numObjects]]),
    workgroups: dispatch1d(x.size, WG),
  };
}

export function addNoObjectTerm(gpu: Gpu, x: GpuTensor, embed: GpuTensor, flags: GpuTensor, numObjects: number): void {
  gpu.run(noObjectTermProgram(x, embed, flags, numObjects));
}

export interface MaskOutputOptions {
  /** Output (slice) size. */
  height: number;
  width: number;
  /** Per pixel only the object with the highest logit keeps it (upstream non-overlapping masks). */
  nonOverlap: boolean;
}

/** Bytes of packed masks for B objects (one byte per pixel, whole u32 words). */
export function maskOutputWords(b: number, height: number, width: number): number {
  return Math.ceil((b * height * width) / 4);
}

/** logits [B, h, w] f32 → out u32 words: B binary masks of height × width bytes (0/1), back to back. */
export function maskOutputProgram(logits: GpuTensor, out: GpuTensor, o: MaskOutputOptions): KernelProgram {
  const name = 'decisions-mask-output-f32';
  check(logits.dtype === 'f32' && logits.shape.length === 3, name, `logits must be f32 [B, h, w], got ${logits.dtype} ${shapeStr(logits.shape)}`);
  const [b, h, w] = logits.shape;
  check(Number.isInteger(o.height) && Number.isInteger(o.width) && o.height > 0 && o.width > 0, name, `output size ${o.height}x${o.width} is invalid`);
  const words = maskOutputWords(b, o.height, o.width);
  check(out.dtype === 'u32' && out.size >= words, name, `out must be u32 with ${words} words, got ${out.dtype} ${shapeStr(out.shape)}`);
  return {
    name,
    source: maskOutputSource,
    constants: { WG },
    bindings: [logits, out],
    uniforms: uniforms([
      ['u32', words], ['u32', b], ['u32', h], ['u32', w], ['u32', o.height], ['u32', o.width],
      ['f32', resizeScale(h, o.height)], ['f32', resizeScale(w, o.width)], ['u32', o.nonOverlap ? 1 : 0], ['u32', 0], ['u32', 0], ['u32', 0],
    ]),
    workgroups: dispatch1d(words, WG),
  };
}

export function maskOutput(gpu: Gpu, logits: GpuTensor, o: MaskOutputOptions, out?: GpuTensor): GpuTensor {
  const t = out ?? gpu.empty([maskOutputWords(logits.shape[0], o.height, o.width)], 'u32', 'output-masks');
  gpu.run(maskOutputProgram(logits, t, o));
  return t;
}
