// Bucketed reuse of storage buffers, so that steady-state inference allocates nothing: a request is
// rounded up to a bucket, released buffers go to a free list per bucket, and the next request of
// the same bucket takes one from there. `stats` lets tests prove that memory stays flat.
// A request takes the OLDEST free buffer of its bucket (lowest creation number), not the last one
// released: the same sequence of requests then gets the same buffers whatever order the previous
// slice released them in, so cached bind groups (bind-group-cache.ts) hit across slices.

export const STORAGE_USAGE = GPUBufferUsageFlags();

function GPUBufferUsageFlags(): number {
  // GPUBufferUsage is a global only after the WebGPU implementation is loaded; the numbers are fixed by the spec.
  return 0x0080 /* STORAGE */ | 0x0004 /* COPY_SRC */ | 0x0008 /* COPY_DST */;
}

export interface PoolStats {
  /** Buffers created since the pool was made. */
  created: number;
  /** Bytes of all buffers the pool owns (in use + free). */
  allocatedBytes: number;
  /** Bytes handed out and not yet released. */
  inUseBytes: number;
  /** Peak of allocatedBytes. */
  peakBytes: number;
}

/** Rounds a byte size up to its bucket: 16 steps per power of two above 4 KiB (≤ 6.25 % waste). */
export function bucketSize(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  if (bytes <= 4096) return Math.ceil(bytes / 256) * 256;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  const step = pow / 16;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  /** Free buffers per bucket, sorted by creation number, highest first (pop takes the oldest). */
  private free = new Map<number, GPUBuffer[]>();
  private sizes = new WeakMap<GPUBuffer, number>();
  private serials = new WeakMap<GPUBuffer, number>();
  readonly stats: PoolStats = { created: 0, allocatedBytes: 0, inUseBytes: 0, peakBytes: 0 };

  /** `allocate` creates the buffers (default device.createBuffer; the Gpu wraps it in error scopes). */
  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
    private readonly usage = STORAGE_USAGE,
    private readonly allocate: (desc: GPUBufferDescriptor) => GPUBuffer = (desc) => device.createBuffer(desc),
    /** Called with each buffer `trim` is about to destroy (e.g. to drop cached bind groups naming it). */
    private readonly onDestroy: (buf: GPUBuffer) => void = () => {},
  ) {}

  acquire(bytes: number, label = ''): GPUBuffer {
    const size = bucketSize(Math.max(bytes, 4));
    if (size > this.maxBufferSize) {
      throw new Error(
        `buffer ${label || ''} of ${bytes} bytes exceeds this adapter's maxBufferSize (${this.maxBufferSize} bytes)`,
      );
    }
    const list = this.free.get(size);
    let buf = list?.pop();
    if (!buf) {
      buf = this.allocate({ size, usage: this.usage, label });
      this.sizes.set(buf, size);
      this.serials.set(buf, this.stats.created);
      this.stats.created++;
      this.stats.allocatedBytes += size;
      this.stats.peakBytes = Math.max(this.stats.peakBytes, this.stats.allocatedBytes);
    }
    this.stats.inUseBytes += size;
    return buf;
  }

  release(buf: GPUBuffer): void {
    const size = this.sizes.get(buf);
    if (size === undefined) throw new Error('BufferPool.release: buffer was not made by this pool');
    this.stats.inUseBytes -= size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    // Insert keeping the list sorted by serial, highest first; lists are short.
    const serial = this.serials.get(buf)!;
    let i = list.length;
    while (i > 0 && this.serials.get(list[i - 1])! < serial) i--;
    list.splice(i, 0, buf);
  }

  /** Restarts the peak from what is allocated now (to measure the peak of one phase). */
  resetPeak(): void {
    this.stats.peakBytes = this.stats.allocatedBytes;
  }

  /** Destroys every free buffer (e.g. after a resolution change). */
  trim(): void {
    for (const [size, list] of this.free) {
      for (const b of list) {
        this.onDestroy(b);
        b.destroy();
        this.stats.allocatedBytes -= size;
      }
    }
    this.free.clear();
  }
}
