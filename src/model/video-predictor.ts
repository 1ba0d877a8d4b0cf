// 3-D propagation through a volume treated as a video, following the semantics of the official
// per-object `SAM2VideoPredictor` (sam2/sam2_video_predictor.py, Dec-2024): prompts (points, box,
// mask) on any slice and object, preflight memory encoding of prompted slices, propagation forward
// and backward from the prompted slices, corrections, disappearing objects and non-overlapping
// output masks. This file holds state and orchestration only; the math lives in the modules behind
// `Sam2Parts` and post-processing in mask-postprocess.ts.
import { flagStride, maskOutput } from '../kernels/decisions/decisions.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import { FeatureScheduler, type SchedulerOptions, type SliceSource } from './feature-scheduler.js';
import { fillHoles } from './fill-holes.js';
import { applyNonOverlap, bilinearResize, binarize } from './mask-postprocess.js';
import { MemoryBank, memoryBankShared, type MemoryBankShared, type MemoryPlan } from './memory-bank.js';
import { copySourceItem, itemView, readItem } from './layers/batch-item.js';
import { copyRange } from '../kernels/mask-select/mask-select.js';
import type { Sam2Model } from './sam2-model.js';
import type { GpuHeadsOutput, HeadsOutput, ImageFeatures, PromptInput, Sam2Parts } from './sam2-parts.js';
import { readDecisions } from './sam-heads.js';
import { copyWords, packTensors, splitWords } from './slice-packet.js';
import { checkResumeTarget, recreateHeads, reencodeMemory, type ResumableOutput } from './video-resume.js';
import { sliceSourceFrom, type VideoCreateOptions } from './video-source.js';
import type { WeightScope } from './weights.js';

/** Propagation direction from the start slice: towards higher, lower, or both (two passes). */
export type Direction = 'forward' | 'backward' | 'both';

/** Session options of `Sam2Video.create` (upstream predictor settings, feature lookahead). */
export interface VideoOptions extends SchedulerOptions {
  /** Corrections on tracked slices become conditioning slices (upstream default false). */
  addAllFramesToCorrectAsCond?: boolean;
  /** Per pixel only the most confident object keeps a positive logit (upstream default false). */
  nonOverlapMasks?: boolean;
  /**
   * With direction 'both', run the backward pass without the forward pass's memories (the
   * MedSAM2 3-D protocol resets the state between passes). Default true.
   */
  independentPasses?: boolean;
  /**
   * With direction 'both' and independent passes, run the passes interleaved, one slice of each in
   * turn (start, start−1, start+1, start−2, …; the rest of the longer pass at the end), so the GPU
   * always has independent work. Masks and the final state are exactly those of running the passes
   * one after the other (false). Default true.
   */
  interleavePasses?: boolean;
  /**
   * Background components (logit <= 0, 8-connected) of at most this many low-res pixels are set to
   * logit 0.1 in every slice's output, on the GPU (upstream fill_hole_area; 0 = off). Default: the
   * model config's (8 for the official presets, 0 for the fixtures' micro model).
   */
  fillHoleArea?: number;
}

/** Options of `Sam2Video.propagate`. */
export interface PropagateOptions {
  /** First slice (default: the earliest prompted slice over all objects). */
  from?: number;
  /**
   * Default 'forward'; 'both' runs a forward and a backward pass (interleaved with independent
   * passes, see `interleavePasses`: slices are then yielded alternately from each pass).
   */
  direction?: Direction;
  /** Most slices to track per pass (default: all). */
  maxSlices?: number;
  /** Also return video-resolution logits (default: only binary masks). */
  logits?: boolean;
}

/** The output of one slice: a mask per object. */
export interface SliceResult {
  /** Slice index. */
  slice: number;
  /** Object ids, in the order of `masks`. */
  objIds: number[];
  /** Binary masks at the volume's slice resolution (height × width), one per object. */
  masks: Uint8Array[];
  /** Video-resolution logits, when asked for. */
  logits?: Float32Array[];
  /** Low-res logits [4F, 4F] per object (what the model produced). */
  lowRes: Float32Array[];
  /** Object-score logit per object (negative: the model finds the object absent here). */
  objectScores: number[];
}

interface FrameOut extends ResumableOutput {
  /** Until preflight: what the memory encoder and the bank need. */
  pending?: { highRes: GpuTensor; objPtr: GpuTensor };
}

/** A propagated slice recorded on the GPU whose host data is still on its way. */
interface PendingSlice {
  slice: number;
  reverse: boolean;
  /** Objects tracked on this slice (prompted ones are already on the host), in packet order. */
  tracked: ObjectState[];
  /** The slice packet (see slice-packet.ts); null when no object was tracked. */
  data: Promise<ArrayBuffer> | null;
  /** Whether the packet ends with the slice's output masks (every object tracked). */
  gpuMasks: boolean;
  /** Whether the packet holds the filled logits and, after them, the unfilled ones the memories saw. */
  filled: boolean;
  numMasks: number;
  multimask: boolean;
}

/** A propagation in progress: its passes (slice orders) and the next slice to process. */
interface PropagationProgress {
  passes: number[][];
  /** Whether each pass tracks backward. */
  reverse: boolean[];
  logits: boolean;
  pass: number;
  index: number;
  /** Interleaved passes: the next index of each; `pass`/`index` name the next step. */
  indices?: number[];
}

/** One recorded slice of a propagation loop and how finishing it advances the progress. */
interface PipelineStep {
  slice: PendingSlice;
  /** Recorded in the interleaved backward pass's own state. */
  backPass: boolean;
  done: () => void;
}

/** A pass's own tracking state: the backward pass's while it runs interleaved with the forward one. */
interface PassState {
  bank: MemoryBank;
  nonCond: Map<number, FrameOut>;
  tracked: Map<number, { reverse: boolean }>;
}

interface ObjectState {
  id: number;
  bank: MemoryBank;
  points: Map<number, { points: Float32Array; labels: Int32Array }>;
  masks: Map<number, GpuTensor>;
  cond: Map<number, FrameOut>;
  nonCond: Map<number, FrameOut>;
  tempCond: Map<number, FrameOut>;
  tempNonCond: Map<number, FrameOut>;
  tracked: Map<number, { reverse: boolean }>;
  /** The interleaved backward pass's state (see runInterleaved). */
  back?: PassState;
}

/**
 * A segmentation session over a volume (a "video" of slices), following SAM 2's
 * `SAM2VideoPredictor`: prompts (points, box, mask) on any slice and object, then propagation
 * through the volume with the memory bank on the GPU. Create it with
 * `Sam2Video.create(model, { numFrames, width, height, loadSlice })`.
 */
export class Sam2Video {
  private readonly objects = new Map<number, ObjectState>();
  private readonly scheduler: FeatureScheduler;
  private readonly shared: MemoryBankShared;
  private cancelled = false;
  /** The propagation in progress, kept when it stops on an error so `resumeOn` can continue it. */
  private progress: PropagationProgress | null = null;
  private readonly S: number;
  private readonly lowSide: number;
  private readonly fillHoleArea: number;
  /** The slices of the public form of `create`, so `resumeOn(model)` can load them for another model. */
  private slices: Pick<VideoCreateOptions, 'numFrames' | 'width' | 'height' | 'loadSlice'> | null = null;

  private constructor(
    private readonly gpu: Gpu,
    private readonly parts: Sam2Parts,
    private readonly source: SliceSource,
    private readonly opts: VideoOptions,
    weights: WeightScope,
  ) {
    this.scheduler = new FeatureScheduler(gpu, parts, source, opts);
    this.shared = memoryBankShared(gpu, parts.config, weights, parts.maskmemPos);
    this.S = parts.config.imageSize;
    this.lowSide = parts.config.lowResMaskSize;
    this.fillHoleArea = opts.fillHoleArea ?? parts.config.predictor.fillHoleArea;
    if (!Number.isInteger(this.fillHoleArea) || this.fillHoleArea < 0) {
      throw new Error(`Sam2Video: fillHoleArea must be a non-negative integer, got ${this.fillHoleArea}`);
    }
  }

  /**
   * A segmentation session over a volume: `numFrames` slices of `width` × `height` pixels, each
   * returned by `loadSlice(t)` as uint8 pixels when the engine needs it.
   */
  static create(model: Sam2Model, options: VideoCreateOptions): Sam2Video;
  /** @internal Engine-level form: any `Sam2Parts` and a SliceSource that yields preprocessed model inputs. */
  static create(gpu: Gpu, parts: Sam2Parts, weights: WeightScope, source: SliceSource, opts?: VideoOptions): Sam2Video;
  static create(...args: [Sam2Model, VideoCreateOptions] | [Gpu, Sam2Parts, WeightScope, SliceSource, VideoOptions?]): Sam2Video {
    if (args.length === 2) {
      const [model, { numFrames, width, height, loadSlice, ...opts }] = args;
      const slices = { numFrames, width, height, loadSlice };
      const video = Sam2Video.create(model.gpu, model, model.root, sliceSourceFrom(model, slices), opts);
      video.slices = slices;
      return video;
    }
    const [gpu, parts, weights, source, opts = {}] = args;
    if (source.numFrames < 1) throw new Error('Sam2Video: the volume has no slices');
    return new Sam2Video(gpu, parts, source, opts, weights);
  }

  /** Number of slices in the volume. */
  get numSlices(): number {
    return this.source.numFrames;
  }

  /** Ids of the objects prompted so far. */
  get objIds(): number[] {
    return [...this.objects.keys()];
  }

  /** Image-encoder runs so far. */
  get imageEncodes(): number {
    return this.scheduler.encodes;
  }

  private object(objId: number): ObjectState {
    let o = this.objects.get(objId);
    if (!o) {
      o = {
        id: objId,
        bank: new MemoryBank(this.gpu, this.parts.config, this.shared, this.source.numFrames),
        points: new Map(),
        masks: new Map(),
        cond: new Map(),
        nonCond: new Map(),
        tempCond: new Map(),
        tempNonCond: new Map(),
        tracked: new Map(),
      };
      this.objects.set(objId, o);
    }
    return o;
  }

  private checkSlice(slice: number): void {
    if (!Number.isInteger(slice) || slice < 0 || slice >= this.source.numFrames) {
      throw new RangeError(`slice ${slice} is outside the volume (0..${this.source.numFrames - 1})`);
    }
  }

  /** Clicks in slice pixels; labels 1 = positive, 0 = negative. Returns the slice's masks. */
  async addPoints(
    slice: number,
    objId: number,
    points: ReadonlyArray<readonly [number, number]>,
    labels: readonly number[],
    opts: { clearOldPoints?: boolean } = {},
  ): Promise<SliceResult> {
    if (points.length !== labels.length) throw new Error(`addPoints: ${points.length} points but ${labels.length} labels`);
    if (points.length === 0) throw new Error('addPoints: at least one point is needed');
    for (const l of labels) if (l !== 0 && l !== 1) throw new Error(`addPoints: label ${l} is not 0 (negative) or 1 (positive)`);
    return this.addPrompt(slice, objId, points, labels, opts.clearOldPoints ?? true);
  }

  /** A box [x0, y0, x1, y1] in slice pixels, optionally with clicks. */
  async addBox(
    slice: number,
    objId: number,
    box: readonly [number, number, number, number],
    points: ReadonlyArray<readonly [number, number]> = [],
    labels: readonly number[] = [],
  ): Promise<SliceResult> {
    const [x0, y0, x1, y1] = box;
    if (!(x1 > x0 && y1 > y0)) throw new Error(`addBox: box [${box.join(', ')}] is empty or inverted`);
    return this.addPrompt(slice, objId, [[x0, y0], [x1, y1], ...points], [2, 3, ...labels], true);
  }

  private async addPrompt(
    slice: number,
    objId: number,
    pts: ReadonlyArray<readonly [number, number]>,
    labels: readonly number[],
    clearOld: boolean,
  ): Promise<SliceResult> {
    this.checkSlice(slice);
    const o = this.object(objId);
    // Video pixels -> model pixels: p / [W, H] * S, in float32 as upstream.
    const { width: W, height: H } = this.source;
    let coords = new Float32Array(pts.length * 2);
    pts.forEach(([x, y], i) => {
      coords[2 * i] = Math.fround(Math.fround(Math.fround(x) / W) * this.S);
      coords[2 * i + 1] = Math.fround(Math.fround(Math.fround(y) / H) * this.S);
    });
    let labs = Int32Array.from(labels);
    const old = clearOld ? undefined : o.points.get(slice);
    if (old) {
      const c = new Float32Array(old.points.length + coords.length);
      c.set(old.points);
      c.set(coords, old.points.length);
      const l = new Int32Array(old.labels.length + labs.length);
      l.set(old.labels);
      l.set(labs, old.labels.length);
      coords = c;
      labs = l;
    }
    o.points.set(slice, { points: coords, labels: labs });
    o.masks.get(slice)?.release();
    o.masks.delete(slice);
    const { isInit, reverse, key } = this.storageFor(o, slice);
    const prev = (key === 'cond' ? o.tempCond : o.tempNonCond).get(slice) ?? o.cond.get(slice) ?? o.nonCond.get(slice);
    let maskInput: GpuTensor | undefined;
    if (prev) {
      // A slice that already has an output feeds its logits (clamped to ±32) back as a mask prompt.
      const clamped = prev.lowResHost.map((v) => Math.min(32, Math.max(-32, v)));
      maskInput = this.gpu.upload(clamped, [this.lowSide, this.lowSide], 'f32', 'prev_mask_logits');
    }
    const out = await this.runSingleFrame(o, slice, isInit, { points: coords, labels: labs, maskInput }, reverse);
    maskInput?.release();
    this.setTemp(o, slice, key, out);
    return this.sliceResult(slice, false);
  }

  /** A binary mask at slice resolution (height × width, row-major) as the prompt of a slice. */
  async addMask(slice: number, objId: number, mask: Uint8Array): Promise<SliceResult> {
    this.checkSlice(slice);
    const { width: W, height: H } = this.source;
    if (mask.length !== W * H) throw new Error(`addMask: mask has ${mask.length} pixels, the slice has ${W}x${H}`);
    const o = this.object(objId);
    const m = resizeMaskToModel(mask, H, W, this.S);
    const t = this.gpu.upload(m, [this.S, this.S], 'f32', 'mask_prompt');
    o.masks.get(slice)?.release();
    o.masks.set(slice, t);
    o.points.delete(slice);
    const { isInit, reverse, key } = this.storageFor(o, slice);
    const feats = this.scheduler.get(slice);
    const heads = await this.parts.maskAsOutput(feats, t);
    const out = await this.toFrameOut(heads, true, true);
    out.maskPrompt = m;
    void isInit;
    void reverse;
    this.setTemp(o, slice, key, out);
    return this.sliceResult(slice, false);
  }

  /** Removes an object's prompts on one slice (upstream clear_all_prompts_in_frame). */
  clearPrompts(slice: number, objId: number): void {
    const o = this.objects.get(objId);
    if (!o) return;
    o.points.delete(slice);
    o.masks.get(slice)?.release();
    o.masks.delete(slice);
    for (const m of [o.tempCond, o.tempNonCond]) {
      const f = m.get(slice);
      if (f) releasePending(f);
      m.delete(slice);
    }
    const out = o.cond.get(slice);
    if (out) {
      o.cond.delete(slice);
      o.bank.removeCond(slice);
      o.nonCond.set(slice, out);
      o.tracked.delete(slice);
    }
  }

  private storageFor(o: ObjectState, slice: number): { isInit: boolean; reverse: boolean; key: 'cond' | 'non_cond' } {
    const tracked = o.tracked.get(slice);
    const isInit = !tracked;
    const isCond = isInit || !!this.opts.addAllFramesToCorrectAsCond;
    return { isInit, reverse: tracked?.reverse ?? false, key: isCond ? 'cond' : 'non_cond' };
  }

  private setTemp(o: ObjectState, slice: number, key: 'cond' | 'non_cond', out: FrameOut): void {
    const m = key === 'cond' ? o.tempCond : o.tempNonCond;
    const old = m.get(slice);
    if (old) releasePending(old);
    m.set(slice, out);
  }

  /** The slice's features conditioned for one object: + no_mem_embed on an initial frame, else memory attention. */
  private conditionedFeatures(o: ObjectState, feats: ImageFeatures, slice: number, isInit: boolean, reverse: boolean): GpuTensor {
    if (isInit && this.parts.config.flags.directlyAddNoMemEmbed) return this.parts.addNoMemEmbed(feats.l2);
    if (o.bank.condFrames.length === 0) throw new Error(`object ${o.id} has no prompted slice to track from`);
    const mem = o.bank.assemble(slice, reverse);
    const pix = this.parts.attendMemory(feats.l2, mem.memory, mem.memoryPos, mem.numObjPtrTokens);
    mem.memory.release();
    mem.memoryPos.release();
    return pix;
  }

  /** `_use_multimask` of the predictor: multimask output for 0..1 points (tracked slices have none). */
  private multimask(isInit: boolean, numPoints: number): boolean {
    const f = this.parts.config.flags;
    return f.multimaskOutputInSam && (isInit || f.multimaskOutputForTracking) && f.multimaskMinPtNum <= numPoints && numPoints <= f.multimaskMaxPtNum;
  }

  /** Upstream `_run_single_frame_inference` + `track_step` for one object on a prompted slice (memory encoded at preflight). */
  private async runSingleFrame(o: ObjectState, slice: number, isInit: boolean, prompt: PromptInput, reverse: boolean): Promise<FrameOut> {
    const feats = this.scheduler.get(slice);
    const pix = this.conditionedFeatures(o, feats, slice, isInit, reverse);
    const heads = await this.parts.decode(pix, feats, prompt, this.multimask(isInit, prompt.labels?.length ?? 0));
    pix.release();
    return this.toFrameOut(heads, true);
  }

  /**
   * `track_step` of one object on a tracked slice, recorded with no host round trip: the decisions
   * stay in the flag record, the memory encoder reads presence from it, and the memory goes into the
   * bank. The caller packs and reads back what the host keeps (flags, low-res logits, pointer).
   */
  private recordTracked(o: ObjectState, slice: number, reverse: boolean, upcoming: readonly number[]): GpuHeadsOutput {
    const feats = this.scheduler.get(slice, upcoming);
    const pix = this.conditionedFeatures(o, feats, slice, false, reverse);
    const heads = this.parts.decodeOnGpu(pix, feats, {}, this.multimask(false, 0));
    pix.release();
    // Tracked slices have no points: the memory sees sigmoid(logits), not a binarized mask.
    const mem = this.parts.encodeMemory(feats.l2, heads.highResMasks, false, heads.flags);
    heads.highResMasks.release();
    o.bank.store(slice, 'non_cond', mem, heads.objPtr);
    mem.release();
    return heads;
  }

  /**
   * `recordTracked` for each object, in order. Objects whose memories have the same shape run
   * memory attention, the SAM heads and the memory encoder as one B>1 chain (item b equal to object
   * b's own step). A lone object takes the per-object path. The heads of a batch are views of its
   * stacked outputs, for copies only; `owned` holds those outputs, released by the caller once
   * it has recorded its copies.
   */
  private recordTrackedObjects(objects: readonly ObjectState[], slice: number, reverse: boolean, upcoming: readonly number[]): { heads: GpuHeadsOutput[]; owned: GpuTensor[] } {
    const heads: GpuHeadsOutput[] = new Array(objects.length);
    const owned: GpuTensor[] = [];
    for (const group of memoryBatchGroups(objects, slice, reverse)) {
      if (group.members.length === 1) {
        const i = group.members[0];
        heads[i] = this.recordTracked(objects[i], slice, reverse, upcoming);
        continue;
      }
      const out = this.recordTrackedBatch(group.members.map((i) => objects[i]), group.plans, slice, reverse, upcoming);
      group.members.forEach((i, b) => (heads[i] = out.heads[b]));
      owned.push(...out.owned);
    }
    return { heads, owned };
  }

  /**
   * `recordTracked` of several objects whose memory plans have the same shape: their memories,
   * gathered side by side, go through memory attention, the SAM heads and the memory encoder
   * together (presence from each one's flag record).
   */
  private recordTrackedBatch(
    objects: readonly ObjectState[],
    plans: readonly MemoryPlan[],
    slice: number,
    reverse: boolean,
    upcoming: readonly number[],
  ): { heads: GpuHeadsOutput[]; owned: GpuTensor[] } {
    const { gpu, parts } = this;
    const B = objects.length;
    const { rows, numObjPtrTokens } = plans[0];
    const md = parts.config.memDim;
    const feats = this.scheduler.get(slice, upcoming);
    const memory = gpu.empty([B * rows, md], 'f32', 'memory');
    const memoryPos = gpu.empty([B * rows, md], 'f32', 'memory_pos');
    objects.forEach((o, b) => {
      const mem = itemView(gpu, memory, b, [rows, md]);
      const pos = itemView(gpu, memoryPos, b, [rows, md]);
      if (mem && pos) {
        o.bank.gather(plans[b], mem, pos);
        return;
      }
      const one = o.bank.assemble(slice, reverse);
      copyRange(gpu, one.memory, memory, { dstOffset: b * rows * md, count: rows * md });
      copyRange(gpu, one.memoryPos, memoryPos, { dstOffset: b * rows * md, count: rows * md });
      one.memory.release();
      one.memoryPos.release();
    });
    const pix = parts.attendMemoryBatch(feats.l2, memory, memoryPos, B, numObjPtrTokens);
    memory.release();
    memoryPos.release();
    const h = parts.decodeBatchOnGpu(pix, feats, {}, this.multimask(false, 0));
    pix.release();
    // Tracked slices have no points: the memory sees sigmoid(logits), not a binarized mask.
    const mem = parts.encodeMemoryBatch(feats.l2, { highResMasks: h.highResMasks, binarize: false, flags: h.flags });
    h.highResMasks.release();
    const hw = mem.size / (B * md);
    const [C, low, stride] = [h.objPtr.shape[1], h.lowResMasks.shape[1], h.flags.shape[1]];
    const heads = objects.map((o, b): GpuHeadsOutput => {
      const objPtr = copySourceItem(h.objPtr, b, [C]);
      const item = readItem(gpu, mem, b, [hw, md]);
      o.bank.store(slice, 'non_cond', item, objPtr);
      item.release();
      return { ...h, lowResMasks: copySourceItem(h.lowResMasks, b, [low, low]), objPtr, flags: copySourceItem(h.flags, b, [1, stride]) };
    });
    mem.release();
    return { heads, owned: [h.lowResMasks, h.objPtr, h.flags] };
  }

  /**
   * Records one propagated slice for every object that is not prompted there, fill_hole_area on
   * the stored logits, the slice's output masks (resized, non-overlapped and thresholded on the GPU)
   * when every object was tracked, and starts the slice's one readback without waiting for it.
   */
  private recordSlice(t: number, reverse: boolean, upcoming: readonly number[], backPass = false): PendingSlice {
    const tracked: ObjectState[] = [];
    for (const o of this.objects.values()) if (!o.cond.has(t)) tracked.push(o);
    const { heads, owned } = this.recordTrackedObjects(tracked.map((o) => (backPass ? { ...o, bank: o.back!.bank } : o)), t, reverse, upcoming);
    const base = { slice: t, reverse, tracked, gpuMasks: false, filled: false, numMasks: heads[0]?.numMasks ?? 0, multimask: heads[0]?.multimask ?? false };
    if (tracked.length === 0) return { ...base, data: null };
    const g = this.gpu;
    const low = this.lowSide;
    // The tracked objects' low-res logits as one [n, 4F, 4F] slab: memories were encoded from these;
    // the stored and returned logits have their small holes filled (upstream fill_hole_area).
    const slab = g.empty([tracked.length, low, low], 'f32', 'slice-low-res');
    copyWords(g, heads.map((h) => h.lowResMasks), slab);
    const filled = this.fillHoleArea > 0 ? fillHoles(g, slab, this.fillHoleArea) : slab;
    const gpuMasks = tracked.length === this.objects.size;
    const { width: W, height: H } = this.source;
    const masks = gpuMasks ? maskOutput(g, filled, { height: H, width: W, nonOverlap: !!this.opts.nonOverlapMasks }) : null;
    const parts = [...heads.flatMap((h) => [h.flags, h.objPtr]), filled];
    if (filled !== slab) parts.push(slab);
    if (masks) parts.push(masks);
    const packet = packTensors(g, parts);
    const data = g.readAsync(packet);
    // Marked handled: if recording the next slice throws first, this slice is simply redone.
    data.catch(() => undefined);
    for (const x of [packet, slab, ...(filled !== slab ? [filled] : []), ...(masks ? [masks] : [])]) x.release();
    for (const h of heads) for (const x of [h.flags, h.lowResMasks, h.objPtr]) x.release();
    for (const x of owned) x.release();
    return { ...base, data, gpuMasks, filled: filled !== slab };
  }

  /** Waits for a recorded slice's readback, stores its outputs on the host and returns its result. */
  private async finishSlice(p: PendingSlice, withLogits: boolean, backPass = false): Promise<SliceResult> {
    const state = (o: ObjectState): PassState => (backPass ? o.back! : o);
    let gpuMasks: Uint8Array[] | undefined;
    if (p.data) {
      const { width: W, height: H } = this.source;
      const n = p.tracked.length;
      const lowArea = this.lowSide * this.lowSide;
      const perObject = [flagStride(p.numMasks), this.parts.config.hiddenDim];
      const sizes = [...p.tracked.flatMap(() => perObject), n * lowArea];
      if (p.filled) sizes.push(n * lowArea);
      if (p.gpuMasks) sizes.push(Math.ceil((n * H * W) / 4));
      const words = splitWords(await p.data, sizes);
      const lowRes = new Float32Array(words[2 * n]);
      const memLowRes = p.filled ? new Float32Array(words[2 * n + 1]) : null;
      p.tracked.forEach((o, k) => {
        const { objectScoreLogit } = readDecisions(new Uint32Array(words[2 * k]), 0, p.numMasks, p.multimask, this.parts.config);
        const out: FrameOut = { lowResHost: lowRes.slice(k * lowArea, (k + 1) * lowArea), objPtrHost: new Float32Array(words[2 * k + 1]), objectScoreLogit, memBinarize: false };
        if (memLowRes) out.memLowResHost = memLowRes.slice(k * lowArea, (k + 1) * lowArea);
        state(o).nonCond.set(p.slice, out);
      });
      if (p.gpuMasks) {
        const bytes = new Uint8Array(words[words.length - 1]);
        gpuMasks = p.tracked.map((_, k) => bytes.slice(k * H * W, (k + 1) * H * W));
      }
    }
    for (const o of this.objects.values()) state(o).tracked.set(p.slice, { reverse: p.reverse });
    return this.sliceResult(p.slice, withLogits, gpuMasks);
  }

  private async toFrameOut(heads: HeadsOutput, keepPending: boolean, maskPrompt = false): Promise<FrameOut> {
    // fill_hole_area acts on the stored and returned logits only, as upstream: a tracked slice's
    // memory was already encoded from the unfilled masks, a prompted slice's is encoded later
    // (preflight) from the filled ones.
    const filled = this.fillHoleArea > 0 ? fillHoles(this.gpu, heads.lowResMasks, this.fillHoleArea) : heads.lowResMasks;
    // The pointer comes back too (a few hundred floats): with the logits it is all a resumed run
    // needs to rebuild this slice's memory on another device (with the unfilled logits where the
    // memory saw those).
    const reads = [this.gpu.read(filled), this.gpu.read(heads.objPtr)];
    if (filled !== heads.lowResMasks && !keepPending) reads.push(this.gpu.read(heads.lowResMasks));
    const [lowResHost, objPtrHost, memLowResHost] = await Promise.all(reads);
    heads.lowResMasks.release();
    const out: FrameOut = { lowResHost, objPtrHost, objectScoreLogit: heads.objectScoreLogit };
    if (memLowResHost) out.memLowResHost = memLowResHost;
    if (keepPending) {
      let highRes = heads.highResMasks;
      if (filled !== heads.lowResMasks && !maskPrompt) {
        // The preflight memory sees the upsampled filled logits (a mask prompt's is the mask itself).
        highRes = this.parts.upsampleLowRes(filled);
        heads.highResMasks.release();
      }
      if (filled !== heads.lowResMasks) filled.release();
      out.pending = { highRes, objPtr: heads.objPtr };
      return out;
    }
    if (filled !== heads.lowResMasks) filled.release();
    heads.highResMasks.release();
    heads.objPtr.release();
    return out;
  }

  /** Upstream `propagate_in_video_preflight`: encode the memories of prompted slices, consolidate. */
  private preflight(): void {
    if (this.objects.size === 0) throw new Error('propagate: no prompts were added; add points, a box or a mask first');
    const f = this.parts.config.flags;
    for (const o of this.objects.values()) {
      for (const [key, temp] of [['non_cond', o.tempNonCond], ['cond', o.tempCond]] as const) {
        for (const [slice, out] of temp) {
          if (out.pending) {
            const feats = this.scheduler.get(slice);
            const mem = this.parts.encodeMemory(feats.l2, out.pending.highRes, f.binarizeMaskFromPtsForMemEnc, out.objectScoreLogit);
            o.bank.store(slice, key, mem, out.pending.objPtr);
            mem.release();
            out.memBinarize = f.binarizeMaskFromPtsForMemEnc;
            releasePending(out);
          }
          (key === 'cond' ? o.cond : o.nonCond).set(slice, out);
          if (key === 'cond') o.nonCond.delete(slice);
        }
        temp.clear();
      }
      if (o.cond.size === 0) throw new Error(`propagate: object ${o.id} has no prompted slice; add points, a box or a mask first`);
    }
  }

  /** Stops a running propagation after the slice in progress; finished slices are kept. */
  cancel(): void {
    this.cancelled = true;
  }

  /** Propagates the prompts through the volume, yielding each slice's masks as it is done. */
  async *propagate(opts: PropagateOptions = {}): AsyncGenerator<SliceResult> {
    this.cancelled = false;
    this.progress = null;
    this.settleBackPasses(false);
    this.preflight();
    const n = this.source.numFrames;
    const start = opts.from ?? Math.min(...[...this.objects.values()].flatMap((o) => [...o.cond.keys()]));
    this.checkSlice(start);
    const max = opts.maxSlices ?? n;
    const direction = opts.direction ?? 'forward';
    const reverses: boolean[] = direction === 'forward' ? [false] : direction === 'backward' ? [true] : [false, true];
    const passes = reverses.map((reverse, p) => {
      let order: number[] = [];
      if (reverse) {
        const end = Math.max(start - max, 0);
        if (start > 0) for (let t = start; t >= end; t--) order.push(t);
      } else {
        const end = Math.min(start + max, n - 1);
        for (let t = start; t <= end; t++) order.push(t);
      }
      // 'both' yields the start slice once.
      return p > 0 ? order.slice(1) : order;
    });
    const interleave = passes.length === 2 && (this.opts.independentPasses ?? true) && (this.opts.interleavePasses ?? true);
    this.progress = { passes, reverse: reverses, logits: opts.logits ?? false, pass: 0, index: 0, indices: interleave ? [0, 0] : undefined };
    yield* this.run(this.progress);
  }

  /** Whether a propagation stopped on an error (or was left early) and can be resumed. */
  get interrupted(): boolean {
    return this.progress !== null;
  }

  /**
   * Continues the propagation that stopped on an error, from the first unfinished slice: on this
   * video, or (the usual case after a device loss) on the one `resumeOn` returned.
   */
  async *resumePropagation(): AsyncGenerator<SliceResult> {
    if (!this.progress) throw new Error('resumePropagation: there is no interrupted propagation to resume');
    this.cancelled = false;
    yield* this.run(this.progress);
  }

  /**
   * This video's prompts, finished slices and interrupted propagation, carried onto another device:
   * `model` is the same weights loaded on a fresh Gpu (after a device loss or an out-of-memory
   * error); the slices come from the same `loadSlice`. The memory banks are rebuilt from what the
   * host kept, so `resumePropagation()` on the result finishes with exactly the masks an
   * uninterrupted run gives. This video is left as it was (dispose it once its device is gone).
   */
  resumeOn(model: Sam2Model): Promise<Sam2Video>;
  /** @internal Engine-level form: any `Sam2Parts` and a SliceSource on the new device. */
  resumeOn(gpu: Gpu, parts: Sam2Parts, weights: WeightScope, source: SliceSource): Promise<Sam2Video>;
  async resumeOn(...args: [Sam2Model] | [Gpu, Sam2Parts, WeightScope, SliceSource]): Promise<Sam2Video> {
    if (args.length === 1) {
      const [model] = args;
      if (!this.slices) throw new Error('resumeOn(model): this video was created from a SliceSource; pass (gpu, parts, weights, source)');
      const resumed = await this.resumeOn(model.gpu, model, model.root, sliceSourceFrom(model, this.slices));
      resumed.slices = this.slices;
      return resumed;
    }
    const [gpu, parts, weights, source] = args;
    checkResumeTarget({ config: this.parts.config, source: this.source }, { config: parts.config, source });
    const next = new Sam2Video(gpu, parts, source, this.opts, weights);
    const progress = this.progress
      ? { ...this.progress, passes: this.progress.passes.map((o) => o.slice()), reverse: [...this.progress.reverse], indices: this.progress.indices?.slice() }
      : null;
    // An interleaved run's unfinished slice belongs to the backward pass's own state when pass 1 is next.
    const unfinishedInBack = !!progress?.indices && progress.pass === 1;
    // The slice that was in progress is dropped for every object: it is redone from the start.
    const unfinished = progress && progress.pass < progress.passes.length ? progress.passes[progress.pass][progress.index] : undefined;
    const copy = (m: Map<number, FrameOut>) => {
      const out = new Map<number, FrameOut>();
      for (const [slice, f] of m) {
        const { pending: _pending, ...host } = f;
        out.set(slice, { ...host });
      }
      return out;
    };
    try {
      for (const o of this.objects.values()) {
        const n = next.object(o.id);
        for (const [key, m] of [['cond', o.cond], ['nonCond', o.nonCond], ['tempCond', o.tempCond], ['tempNonCond', o.tempNonCond]] as const) {
          for (const [slice, f] of copy(m)) n[key].set(slice, f);
        }
        // Points of a prompt whose output never arrived (the failure struck it) are dropped.
        for (const [slice, pts] of o.points) {
          if (n.tempCond.has(slice) || n.tempNonCond.has(slice) || n.cond.has(slice) || n.nonCond.has(slice)) n.points.set(slice, pts);
        }
        for (const [slice, t] of o.tracked) n.tracked.set(slice, t);
        if (o.back) n.back = { bank: new MemoryBank(gpu, parts.config, next.shared, source.numFrames), nonCond: copy(o.back.nonCond), tracked: new Map(o.back.tracked) };
        const holder = unfinishedInBack && n.back ? n.back : n;
        if (unfinished !== undefined && !n.cond.has(unfinished)) {
          holder.nonCond.delete(unfinished);
          holder.tracked.delete(unfinished);
        }
        // The banks: the same frames, memories re-encoded on the new device.
        const rebuild = async (bank: MemoryBank, snap: ReturnType<MemoryBank['snapshot']>, nonCond: Map<number, FrameOut>) => {
          const stored = new Set<number>();
          for (const [kind, frames, outs] of [['cond', snap.cond, n.cond], ['non_cond', snap.nonCond, nonCond]] as const) {
            for (const frame of frames) {
              const out = outs.get(frame);
              if (!out) continue;
              const { memory, objPtr } = await reencodeMemory(gpu, parts, next.scheduler.get(frame), out);
              bank.restore(frame, kind, memory, objPtr);
              memory.release();
              objPtr.release();
              stored.add(frame);
            }
          }
          for (const frame of snap.pointers) {
            const out = nonCond.get(frame) ?? n.cond.get(frame);
            if (stored.has(frame) || !out) continue;
            const objPtr = gpu.upload(out.objPtrHost, [parts.config.hiddenDim], 'f32', 'obj_ptr');
            bank.restorePointer(frame, objPtr);
            objPtr.release();
          }
        };
        await rebuild(n.bank, o.bank.snapshot(), n.nonCond);
        if (o.back && n.back) await rebuild(n.back.bank, o.back.bank.snapshot(), n.back.nonCond);
        // Prompt outputs not yet consumed by a propagation held GPU tensors: recreate them.
        for (const [temp, old] of [[n.tempCond, o.tempCond], [n.tempNonCond, o.tempNonCond]] as const) {
          for (const [slice, f] of temp) if (old.get(slice)?.pending) f.pending = await recreateHeads(gpu, parts, next.scheduler.get(slice), f);
        }
      }
      next.progress = progress;
      await gpu.sync();
    } catch (e) {
      next.dispose();
      throw e;
    }
    return next;
  }

  /**
   * The propagation loop, double-buffered: slice t+1 is recorded (and submitted) before the host
   * waits for slice t's readback, so the queue never drains for a mask; each slice is yielded once
   * its host data is back. `progress.index` counts finished slices only.
   */
  private async *run(progress: PropagationProgress): AsyncGenerator<SliceResult> {
    if (progress.indices) {
      yield* this.runInterleaved(progress, progress.indices);
      return;
    }
    const { passes } = progress;
    for (; progress.pass < passes.length; progress.pass++, progress.index = 0) {
      const p = progress.pass;
      const reverse = progress.reverse[p];
      if (p > 0 && progress.index === 0 && (this.opts.independentPasses ?? true)) this.forgetTracking();
      const order = passes[p];
      let next = progress.index;
      const finished = yield* this.pipelined(() => {
        if (next >= order.length) return null;
        const i = next++;
        return { slice: this.recordSlice(order[i], reverse, order.slice(i + 1)), backPass: false, done: () => progress.index++ };
      }, progress.logits);
      if (!finished) break;
    }
    this.progress = null;
  }

  /**
   * Independent forward and backward passes, one slice of each in turn (forward first). The
   * backward pass tracks in its own state, started as forgetTracking would leave the object (a
   * bank with the conditioning memories only); once both passes are done that state replaces the
   * object's. Every step thus sees exactly what it sees in the sequential order.
   */
  private async *runInterleaved(progress: PropagationProgress, indices: number[]): AsyncGenerator<SliceResult> {
    const { passes } = progress;
    const left = (p: number) => indices[p] < passes[p].length;
    for (const o of this.objects.values()) o.back ??= { bank: o.bank.forkCond(), nonCond: new Map(), tracked: new Map() };
    if (!left(progress.pass)) progress.pass = 1 - progress.pass;
    // Recording runs one step ahead of finishing: its own indices and turn.
    const rec = indices.slice();
    const recLeft = (p: number) => rec[p] < passes[p].length;
    let recPass = progress.pass;
    const finished = yield* this.pipelined(() => {
      if (!recLeft(recPass)) return null;
      const p = recPass;
      const i = rec[p];
      const upcoming = interleavedOrder(passes, [p === 0 ? i + 1 : rec[0], p === 1 ? i + 1 : rec[1]], 1 - p);
      const slice = this.recordSlice(passes[p][i], progress.reverse[p], upcoming, p === 1);
      rec[p] = i + 1;
      recPass = recLeft(1 - p) ? 1 - p : p;
      const done = (): void => {
        indices[p] = i + 1;
        progress.pass = left(1 - p) ? 1 - p : p;
        progress.index = indices[progress.pass];
      };
      return { slice, backPass: p === 1, done };
    }, progress.logits);
    this.settleBackPasses(finished);
    if (finished) progress.pass = passes.length;
    this.progress = null;
  }

  /**
   * The double-buffered loop both orders share: `record` records the next step (null when none is
   * left) before the previous one is finished and yielded; `done` then moves the progress past it,
   * so a resume starts after it whatever the consumer does with it. On cancel, the step in flight
   * finishes (its memory is already in the bank) but is not yielded. Returns false if cancelled.
   */
  private async *pipelined(record: () => PipelineStep | null, logits: boolean): AsyncGenerator<SliceResult, boolean> {
    let pending: PipelineStep | null = null;
    for (;;) {
      if (this.cancelled) {
        if (pending) await this.finishSlice(pending.slice, false, pending.backPass);
        return false;
      }
      const recorded = record();
      if (pending) {
        const result = await this.finishSlice(pending.slice, logits, pending.backPass);
        pending.done();
        yield result;
      }
      if (!recorded) return true;
      pending = recorded;
    }
  }

  /**
   * Ends interleaved passes. Both done: the backward pass's state replaces the object's, as
   * forgetTracking and a sequential backward pass leave it. Stopped early (cancel, a new
   * propagation): the forward state stays and the finished backward slices are kept in it, except
   * where its bank holds a memory of the same slice (that slice keeps the output the memory is of).
   */
  private settleBackPasses(complete: boolean): void {
    for (const o of this.objects.values()) {
      const back = o.back;
      if (!back) continue;
      o.back = undefined;
      if (complete) {
        o.bank.release();
        o.bank = back.bank;
        const tracked = new Map([...o.tracked].filter(([t]) => o.cond.has(t)));
        for (const [t, v] of back.tracked) tracked.set(t, v);
        o.nonCond = back.nonCond;
        o.tracked = tracked;
        continue;
      }
      back.bank.release();
      for (const [t, out] of back.nonCond) {
        if (o.bank.hasNonCond(t)) continue;
        o.nonCond.set(t, out);
        o.tracked.set(t, back.tracked.get(t)!);
      }
      for (const [t, v] of back.tracked) if (o.cond.has(t)) o.tracked.set(t, v);
    }
  }

  /** MedSAM2-style independent passes: drop every propagated output, keep the prompts. */
  private forgetTracking(): void {
    for (const o of this.objects.values()) {
      o.nonCond.clear();
      o.bank.clearNonCond();
      for (const t of [...o.tracked.keys()]) if (!o.cond.has(t)) o.tracked.delete(t);
    }
  }

  /**
   * The current output of a slice for every object (empty mask where an object has none). `masks`:
   * the output masks the GPU already made from the same logits (propagation); else they are
   * resized and thresholded here.
   */
  sliceResult(slice: number, withLogits: boolean, masks?: Uint8Array[]): SliceResult {
    const { width: W, height: H } = this.source;
    const objIds: number[] = [];
    const logits: Float32Array[] = [];
    const lowRes: Float32Array[] = [];
    const scores: number[] = [];
    for (const o of this.objects.values()) {
      const out = o.tempCond.get(slice) ?? o.tempNonCond.get(slice) ?? o.cond.get(slice) ?? o.back?.nonCond.get(slice) ?? o.nonCond.get(slice);
      objIds.push(o.id);
      const lr = out?.lowResHost ?? new Float32Array(this.lowSide * this.lowSide).fill(-1024);
      lowRes.push(lr);
      scores.push(out?.objectScoreLogit ?? -Infinity);
      if (!masks || withLogits) logits.push(bilinearResize(lr, this.lowSide, this.lowSide, H, W));
    }
    if (this.opts.nonOverlapMasks) applyNonOverlap(logits);
    return { slice, objIds, masks: masks ?? logits.map(binarize), logits: withLogits ? logits : undefined, lowRes, objectScores: scores };
  }

  /** Forgets every prompt and output (upstream reset_state). */
  reset(): void {
    for (const o of this.objects.values()) {
      o.bank.release();
      o.back?.bank.release();
      for (const m of o.masks.values()) m.release();
      for (const f of [...o.tempCond.values(), ...o.tempNonCond.values()]) releasePending(f);
    }
    this.objects.clear();
    this.scheduler.clear();
    this.progress = null;
  }

  /** Frees the session's GPU memory (features, memory bank); the model is kept. */
  dispose(): void {
    this.reset();
  }
}

/** The slices still to run of two interleaved passes, in step order, pass `turn` next. */
function interleavedOrder(passes: number[][], indices: number[], turn: number): number[] {
  const out: number[] = [];
  const at = indices.slice();
  let p = turn;
  while (at[0] < passes[0].length || at[1] < passes[1].length) {
    if (at[p] < passes[p].length) out.push(passes[p][at[p]++]);
    p = 1 - p;
  }
  return out;
}

/** Objects (by index) tracked on one slice whose memory assemblies have the same shape: one batched chain. */
interface MemoryBatchGroup {
  members: number[];
  plans: MemoryPlan[];
}

/** Groups the objects by the shape of their memory assembly on `slice` (memory and pointer tokens), keeping their order. */
function memoryBatchGroups(objects: readonly ObjectState[], slice: number, reverse: boolean): MemoryBatchGroup[] {
  const groups = new Map<string, MemoryBatchGroup>();
  objects.forEach((o, i) => {
    if (o.bank.condFrames.length === 0) throw new Error(`object ${o.id} has no prompted slice to track from`);
    const plan = o.bank.plan(slice, reverse);
    const key = `${plan.rows}/${plan.numObjPtrTokens}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { members: [], plans: [] }));
    g.members.push(i);
    g.plans.push(plan);
  });
  return [...groups.values()];
}

function releasePending(f: FrameOut): void {
  if (!f.pending) return;
  f.pending.highRes.release();
  f.pending.objPtr.release();
  f.pending = undefined;
}

/**
 * A slice-resolution binary mask → the model's S×S mask input: resized with an antialiased
 * bilinear filter and thresholded at 0.5 when the size differs (upstream add_new_mask).
 */
export function resizeMaskToModel(mask: Uint8Array, h: number, w: number, S: number): Float32Array {
  if (h === S && w === S) return Float32Array.from(mask, (v) => (v ? 1 : 0));
  const src = Float32Array.from(mask, (v) => (v ? 1 : 0));
  const out = antialiasResize(src, h, w, S, S);
  for (let i = 0; i < out.length; i++) out[i] = out[i] >= 0.5 ? 1 : 0;
  return out;
}

/** Separable triangle-filter resize (PyTorch bilinear with antialias=True), host side. */
function antialiasResize(src: Float32Array, inH: number, inW: number, outH: number, outW: number): Float32Array {
  const weights = (inSize: number, outSize: number) => {
    const scale = inSize / outSize;
    const support = scale > 1 ? scale : 1;
    const rows: Array<{ start: number; w: number[] }> = [];
    for (let i = 0; i < outSize; i++) {
      const center = scale * (i + 0.5);
      const start = Math.max(Math.floor(center - support + 0.5), 0);
      const end = Math.min(Math.floor(center + support + 0.5), inSize);
      const w: number[] = [];
      let total = 0;
      const inv = scale > 1 ? 1 / scale : 1;
      for (let j = start; j < end; j++) {
        const v = Math.max(0, 1 - Math.abs((j - center + 0.5) * inv));
        w.push(v);
        total += v;
      }
      rows.push({ start, w: w.map((v) => (total > 0 ? v / total : 0)) });
    }
    return rows;
  };
  const wx = weights(inW, outW);
  const wy = weights(inH, outH);
  const tmp = new Float64Array(inH * outW);
  for (let y = 0; y < inH; y++)
    for (let x = 0; x < outW; x++) {
      const { start, w } = wx[x];
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k] * src[y * inW + start + k];
      tmp[y * outW + x] = acc;
    }
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const { start, w } = wy[y];
    for (let x = 0; x < outW; x++) {
      let acc = 0;
      for (let k = 0; k < w.length; k++) acc += w[k] * tmp[(start + k) * outW + x];
      out[y * outW + x] = acc;
    }
  }
  return out;
}
