// Per-kernel GPU timings. With `timestamp-query` each profiled dispatch runs in its own compute pass
// whose begin/end timestamps are resolved into a buffer; without it the runtime submits each
// dispatch alone and measures wall time around onSubmittedWorkDone (CPU-clock fallback).

export interface KernelTiming {
  name: string;
  /** Nanoseconds of GPU time (timestamps) or wall time (fallback). */
  ns: number;
  flops?: number;
  bytes?: number;
}

const MAX_QUERIES = 4096;

export class TimestampProfiler {
  private querySet: GPUQuerySet;
  private resolveBuf: GPUBuffer;
  private readBuf: GPUBuffer;
  private labels: Array<{ name: string; flops?: number; bytes?: number }> = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: MAX_QUERIES });
    this.resolveBuf = device.createBuffer({
      size: MAX_QUERIES * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readBuf = device.createBuffer({ size: MAX_QUERIES * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  get full(): boolean {
    return (this.labels.length + 1) * 2 > MAX_QUERIES;
  }

  /** Timestamp writes for the next pass; the caller runs exactly one dispatch in it. */
  next(name: string, flops?: number, bytes?: number): GPUComputePassTimestampWrites {
    const i = this.labels.length;
    this.labels.push({ name, flops, bytes });
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Records the resolve into `encoder`; call `collect` after submitting it. */
  resolve(encoder: GPUCommandEncoder): boolean {
    const n = this.labels.length * 2;
    if (n === 0) return false;
    encoder.resolveQuerySet(this.querySet, 0, n, this.resolveBuf, 0);
    encoder.copyBufferToBuffer(this.resolveBuf, 0, this.readBuf, 0, n * 8);
    return true;
  }

  async collect(): Promise<KernelTiming[]> {
    const n = this.labels.length;
    if (n === 0) return [];
    await this.readBuf.mapAsync(GPUMapMode.READ, 0, n * 16);
    const t = new BigUint64Array(this.readBuf.getMappedRange(0, n * 16).slice(0));
    this.readBuf.unmap();
    const out = this.labels.map((l, i) => ({ ...l, ns: Number(t[2 * i + 1] - t[2 * i]) }));
    this.labels = [];
    return out;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuf.destroy();
    this.readBuf.destroy();
  }
}
