// Host → GPU uploads recorded in the command stream: the data is copied into a mapped staging
// chunk and a copyBufferToBuffer into the destination is recorded with the dispatches around it.
// Unlike queue.writeBuffer (queued ahead of everything still in the open encoder), this keeps
// program order without submitting the recorded work first. Chunks are unmapped right before the
// submit that copies from them and mapped again (asynchronously) once the GPU is done with them;
// a chunk whose map fails (device lost) is dropped. Uploads larger than half a chunk get a buffer
// of their own, destroyed after its submit.

const ALIGN = 8;

/**
 * A staging chunk's mapped memory is gone: its buffer was destroyed with the device
 * (device.destroy() releases every mapping at once, before the device-lost notice arrives).
 */
export class StagingMemoryLostError extends Error {
  override name = 'StagingMemoryLostError';
} // getMappedRange offsets are multiples of 8; copy sizes are multiples of 4

interface Chunk {
  buffer: GPUBuffer;
  /** The mapped memory while the chunk is being filled. */
  view: Uint8Array;
  used: number;
}

export class StagingRing {
  /** Mapped chunks ready to be filled. */
  private readonly ready: Chunk[] = [];
  /** The chunk being filled in the open batch. */
  private current: Chunk | null = null;
  /** Chunks (and one-off buffers) written in the open batch, to unmap before its submit. */
  private batch: Chunk[] = [];
  private oneOff: GPUBuffer[] = [];
  private chunks = 0;
  private destroyed = false;
  /** Bytes staged in the open batch (the caller may submit early when this grows large). */
  batchBytes = 0;

  constructor(
    private readonly create: (desc: GPUBufferDescriptor) => GPUBuffer,
    readonly chunkBytes = 1 << 20,
  ) {
    if (chunkBytes % ALIGN || chunkBytes <= 0) throw new Error(`StagingRing: chunk size ${chunkBytes} must be a positive multiple of ${ALIGN}`);
  }

  /** Chunks owned (ready, being filled or in flight): stays flat in a steady state. */
  get chunkCount(): number {
    return this.chunks;
  }

  /**
   * Stages `bytes` (length a multiple of 4) and records their copy to `dst` at `dstOffset` on
   * `encoder` (which must be submitted through `beforeSubmit` / `afterSubmit`).
   */
  upload(encoder: GPUCommandEncoder, dst: GPUBuffer, dstOffset: number, bytes: Uint8Array): void {
    if (this.destroyed) throw new StagingMemoryLostError('StagingRing: used after destroy');
    const size = bytes.byteLength;
    if (size % 4) throw new Error(`StagingRing: upload of ${size} bytes is not a multiple of 4`);
    if (size === 0) return;
    this.batchBytes += size;
    if (size > this.chunkBytes / 2) {
      const buffer = this.create({ size, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true, label: 'staging (one-off)' });
      new Uint8Array(buffer.getMappedRange()).set(bytes);
      buffer.unmap();
      this.oneOff.push(buffer);
      encoder.copyBufferToBuffer(buffer, 0, dst, dstOffset, size);
      return;
    }
    let c = this.current;
    if (!c || c.used + size > this.chunkBytes) c = this.current = this.take();
    if (c.view.byteLength === 0) {
      // Detached: nothing of this ring is usable any more.
      this.destroy();
      throw new StagingMemoryLostError('staging memory was released (device destroyed)');
    }
    const offset = c.used;
    c.view.set(bytes, offset);
    c.used = Math.ceil((offset + size) / ALIGN) * ALIGN;
    encoder.copyBufferToBuffer(c.buffer, offset, dst, dstOffset, size);
  }

  private take(): Chunk {
    let c = this.ready.pop();
    if (!c) {
      const buffer = this.create({ size: this.chunkBytes, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.MAP_WRITE, mappedAtCreation: true, label: 'staging' });
      c = { buffer, view: new Uint8Array(buffer.getMappedRange()), used: 0 };
      this.chunks++;
    }
    this.batch.push(c);
    return c;
  }

  /** Unmaps what the batch about to be submitted copies from. */
  beforeSubmit(): void {
    for (const c of this.batch) c.buffer.unmap();
  }

  /** After the submit: one-off buffers are destroyed, chunks mapped again for reuse once the GPU is done. */
  afterSubmit(): void {
    for (const b of this.oneOff) b.destroy();
    for (const c of this.batch) {
      c.buffer.mapAsync(GPUMapMode.WRITE).then(
        () => {
          if (this.destroyed) return;
          c.view = new Uint8Array(c.buffer.getMappedRange());
          c.used = 0;
          this.ready.push(c);
        },
        () => {
          // Device lost or ring destroyed: the chunk is gone.
          this.chunks--;
          c.buffer.destroy();
        },
      );
    }
    this.oneOff = [];
    this.batch = [];
    this.current = null;
    this.batchBytes = 0;
  }

  destroy(): void {
    this.destroyed = true;
    for (const c of [...this.ready, ...this.batch]) c.buffer.destroy();
    for (const b of this.oneOff) b.destroy();
    this.ready.length = 0;
    this.batch = [];
    this.oneOff = [];
    this.current = null;
  }
}
