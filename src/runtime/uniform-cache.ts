// Uniform buffers addressed by content, so that a launch repeated with the same shapes binds the
// same uniform buffer and its bind group can be cached (a per-submit arena would give it a new
// offset every time). A buffer is written once when its content is first seen and is immutable
// while it holds that content. LRU-bounded: an evicted buffer is reused for new content only after
// the work recorded up to its eviction was submitted, so the queued write lands after that work.

const SLOT = 16;

export class UniformCache {
  /** content key → buffer, least recently used first. */
  private readonly live = new Map<string, GPUBuffer>();
  /** Evicted buffers by size, with the submit count at eviction. */
  private readonly retired = new Map<number, { buffer: GPUBuffer; afterSubmit: number }[]>();
  private readonly all: GPUBuffer[] = [];
  /** Uniform contents written (cache misses). */
  writes = 0;

  /** `submits()` counts the recorder's submits so far (for reuse after eviction). */
  constructor(
    private readonly device: GPUDevice,
    private readonly submits: () => number,
    readonly capacity = 8192,
  ) {
    if (!(capacity >= 1)) throw new Error(`UniformCache: capacity must be at least 1, got ${capacity}`);
  }

  /** Buffers held (live and retired). */
  get buffers(): number {
    return this.all.length;
  }

  /** The binding of a uniform buffer holding `bytes` (written now if this content is new). */
  get(bytes: Uint8Array): GPUBufferBinding {
    const size = Math.ceil(Math.max(bytes.byteLength, 4) / SLOT) * SLOT;
    const padded = new Uint8Array(size);
    padded.set(bytes);
    const words = new Uint32Array(padded.buffer);
    const key = words.join(',');
    let buffer = this.live.get(key);
    if (buffer) {
      this.live.delete(key);
      this.live.set(key, buffer);
      return { buffer, offset: 0, size };
    }
    buffer = this.take(size);
    this.device.queue.writeBuffer(buffer, 0, padded);
    this.writes++;
    this.live.set(key, buffer);
    if (this.live.size > this.capacity) this.evict();
    return { buffer, offset: 0, size };
  }

  private take(size: number): GPUBuffer {
    const list = this.retired.get(size);
    const i = list?.findIndex((r) => r.afterSubmit < this.submits()) ?? -1;
    if (list && i >= 0) return list.splice(i, 1)[0].buffer;
    const buffer = this.device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'uniforms' });
    this.all.push(buffer);
    return buffer;
  }

  private evict(): void {
    const [key, buffer] = this.live.entries().next().value as [string, GPUBuffer];
    this.live.delete(key);
    let list = this.retired.get(buffer.size);
    if (!list) this.retired.set(buffer.size, (list = []));
    list.push({ buffer, afterSubmit: this.submits() });
  }

  destroy(): void {
    for (const b of this.all) b.destroy();
    this.all.length = 0;
    this.live.clear();
    this.retired.clear();
  }
}
