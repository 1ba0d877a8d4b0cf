// Runs the image encoder ahead of the memory chain. Image encoding does not depend on memory, so
// the features of upcoming slices are recorded before the chain of the current slice: while the
// host waits on a chain decision (object score, IoU choice), the GPU already holds the next
// slices' encoder work. Lookahead is bounded by a byte budget for the features kept on the GPU.
// Slices are encoded in batches (`encoderBatch` images through the encoder in one call): missing
// lookahead slices wait until a full batch of them is due, or until the chain needs one of them.
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { ImageFeatures, Sam2Parts } from './sam2-parts.js';

export interface SliceSource {
  numFrames: number;
  /** Original slice size; prompts are given in these pixels and masks are returned at this size. */
  height: number;
  width: number;
  /** The preprocessed model input of slice t: [S, S, 3] (the scheduler releases it after encoding). */
  loadImage(t: number): GpuTensor;
}

export interface SchedulerOptions {
  /** Most slices encoded ahead of the chain (default 4). */
  lookahead?: number;
  /** Most bytes of cached features on the GPU (default 256 MiB). */
  memoryBudgetBytes?: number;
  /**
   * Slices per image-encoder call (default 4 on GPU adapters, 2 on CPU adapters); 1 encodes one
   * slice at a time. Only with a model that encodes batches (Sam2Parts.encodeImages).
   */
  encoderBatch?: number;
}

function featureBytes(f: ImageFeatures): number {
  return f.s0.byteLength + f.s1.byteLength + f.l2.byteLength;
}

export class FeatureScheduler {
  private readonly cache = new Map<number, ImageFeatures>();
  private readonly lookahead: number;
  private readonly budget: number;
  private readonly batch: number;
  /** Slices encoded so far (tests check that each slice is encoded once per pass). */
  encodes = 0;
  /** Image-encoder calls so far (a batch of slices is one call). */
  encoderCalls = 0;

  constructor(
    private readonly gpu: Gpu,
    private readonly parts: Sam2Parts,
    private readonly source: SliceSource,
    opts: SchedulerOptions = {},
  ) {
    this.lookahead = Math.max(0, opts.lookahead ?? 4);
    this.budget = opts.memoryBudgetBytes ?? 256 * 2 ** 20;
    const batch = opts.encoderBatch ?? (gpu.target.kind === 'gpu' ? 4 : 2);
    if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`FeatureScheduler: encoderBatch must be a positive integer, got ${batch}`);
    this.batch = parts.encodeImages ? batch : 1;
  }

  /** Encodes slices `ts` (none cached) in one encoder call. */
  private encode(ts: readonly number[]): void {
    const images = ts.map((t) => this.source.loadImage(t));
    const feats = ts.length > 1 && this.parts.encodeImages ? this.parts.encodeImages(images) : images.map((im) => this.parts.encodeImage(im));
    for (const im of images) im.release();
    ts.forEach((t, i) => this.cache.set(t, feats[i]));
    this.encodes += ts.length;
    this.encoderCalls++;
  }

  private bytes(): number {
    let n = 0;
    for (const f of this.cache.values()) n += featureBytes(f);
    return n;
  }

  /**
   * Features of slice `t`; `upcoming` lists the slices the chain will need next, in order: those
   * are encoded ahead while the lookahead and the byte budget allow. Features of slices that are
   * neither `t` nor upcoming are released.
   */
  get(t: number, upcoming: readonly number[] = []): ImageFeatures {
    const keep = new Set([t, ...upcoming.slice(0, this.lookahead)]);
    for (const [k, f] of this.cache) {
      if (!keep.has(k)) {
        release(f);
        this.cache.delete(k);
      }
    }
    // Missing slices in chain order: the batch holding `t` runs now; later ones once a full batch
    // of them is due (and fits the byte budget).
    const missing = [t, ...upcoming.slice(0, this.lookahead)].filter((u, i, all) => !this.cache.has(u) && all.indexOf(u) === i);
    let per = this.perSlice;
    while (missing.length > 0) {
      const needed = missing[0] === t;
      if (!needed && missing.length < this.batch) break;
      const room = per === undefined ? this.batch : Math.floor((this.budget - this.bytes()) / per);
      const take = Math.min(this.batch, missing.length, needed ? Math.max(1, room) : room);
      if (take < (needed ? 1 : this.batch)) break;
      this.encode(missing.splice(0, take));
      per ??= featureBytes(this.cache.get(t) ?? this.cache.values().next().value!);
      this.perSlice = per;
    }
    this.gpu.flush();
    return this.cache.get(t)!;
  }

  /** Bytes of one slice's features (known after the first encode). */
  private perSlice: number | undefined;

  clear(): void {
    for (const f of this.cache.values()) release(f);
    this.cache.clear();
  }
}

function release(f: ImageFeatures): void {
  f.s0.release();
  f.s1.release();
  f.l2.release();
}
