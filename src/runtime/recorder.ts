// Records many dispatches into one command encoder (one compute pass) and submits them together.
// Uniforms of all recorded dispatches live in one arena buffer, written with a single
// queue.writeBuffer right before the submit: queue operations are ordered, so the arena can be
// reused by the next batch immediately and steady-state recording allocates no GPU memory.

const ARENA_BYTES = 1 << 20;

export class CommandRecorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly arena: GPUBuffer;
  private readonly staging = new Uint8Array(ARENA_BYTES);
  private arenaUsed = 0;
  private readonly align: number;
  /** Dispatches recorded since the last submit. */
  pending = 0;
  /** Total submits, for tests and benchmarks of launch overhead. */
  submits = 0;
  /** Called around every submit (e.g. the staging ring unmaps before and remaps after). */
  hooks: { beforeSubmit(): void; afterSubmit(): void } | null = null;

  constructor(private readonly device: GPUDevice) {
    this.arena = device.createBuffer({
      size: ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'uniform-arena',
    });
    this.align = device.limits.minUniformBufferOffsetAlignment;
  }

  private ensureEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Copies uniform bytes into the arena; returns the binding for them. Flushes when the arena is full. */
  uniform(bytes: Uint8Array): GPUBufferBinding {
    const size = Math.ceil(bytes.byteLength / 16) * 16;
    if (this.arenaUsed + size > ARENA_BYTES) this.submit();
    const offset = this.arenaUsed;
    this.staging.set(bytes, offset);
    this.arenaUsed = Math.ceil((offset + size) / this.align) * this.align;
    return { buffer: this.arena, offset, size };
  }

  dispatch(
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    workgroups: [number, number, number],
    timestampWrites?: GPUComputePassTimestampWrites,
  ): void {
    const encoder = this.ensureEncoder();
    if (timestampWrites) {
      this.endPass();
      const pass = encoder.beginComputePass({ timestampWrites });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(...workgroups);
      pass.end();
    } else {
      if (!this.pass) this.pass = encoder.beginComputePass();
      this.pass.setPipeline(pipeline);
      this.pass.setBindGroup(0, bindGroup);
      this.pass.dispatchWorkgroups(...workgroups);
    }
    this.pending++;
  }

  /** Whether anything (dispatch or copy) is recorded and not yet submitted. */
  get hasWork(): boolean {
    return this.encoder !== null;
  }

  /** The open encoder with no pass open, for copies and query resolves. */
  commandEncoder(): GPUCommandEncoder {
    this.endPass();
    return this.ensureEncoder();
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  submit(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.staging, 0, this.arenaUsed);
    this.hooks?.beforeSubmit();
    this.device.queue.submit([this.encoder.finish()]);
    this.hooks?.afterSubmit();
    this.encoder = null;
    this.arenaUsed = 0;
    this.pending = 0;
    this.submits++;
  }

  destroy(): void {
    this.arena.destroy();
  }
}
