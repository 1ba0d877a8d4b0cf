// Runs the image encoder ahead of the memory chain. Image encoding does not depend on memory, so
// the features of upcoming slices are recorded before the chain of the current slice: while the
// host waits on a chain decision (object score, IoU choice), the GPU already holds the next
// slices' encoder work. Lookahead is bounded by a byte budget for the features kept on the GPU.
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
}

function featureBytes(f: ImageFeatures): number {
  return f.s0.byteLength + f.s1.byteLength + f.l2.byteLength;
}

export class FeatureScheduler {
  private readonly cache = new Map<number, ImageFeatures>();
  private readonly lookahead: number;
  private readonly budget: number;
  /** Image-encoder runs so far (tests check that each slice is encoded once per pass). */
  encodes = 0;

  constructor(
    private readonly gpu: Gpu,
    private readonly parts: Sam2Parts,
    private readonly source: SliceSource,
    opts: SchedulerOptions = {},
  ) {
    this.lookahead = Math.max(0, opts.lookahead ?? 4);
    this.budget = opts.memoryBudgetBytes ?? 256 * 2 ** 20;
  }

  private encode(t: number): ImageFeatures {
    let f = this.cache.get(t);
    if (f) return f;
    const image = this.source.loadImage(t);
    f = this.parts.encodeImage(image);
    image.release();
    this.encodes++;
    this.cache.set(t, f);
    return f;
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
    const cur = this.encode(t);
    const per = featureBytes(cur);
    for (const u of upcoming.slice(0, this.lookahead)) {
      if (this.cache.has(u)) continue;
      if (this.bytes() + per > this.budget) break;
      this.encode(u);
    }
    this.gpu.flush();
    return cur;
  }

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
