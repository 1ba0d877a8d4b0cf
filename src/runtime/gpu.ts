// The engine's handle on a GPU: device + buffer pool + pipeline cache + command recorder +
// profiler, and the upload / readback helpers. Model code calls kernel launchers, which return
// KernelPrograms that `run` records; work is submitted in batches and only read back on request.

import { programKey, type KernelProgram } from '../kernels/program.js';
import { KernelSelector, type KernelSelectorOptions, type OpFamily, type TuningCache } from '../kernels/registry.js';
import { BindGroupCache, type BoundRange } from './bind-group-cache.js';
import { BufferPool, STORAGE_USAGE, type PoolStats } from './buffer-pool.js';
import { createDevice, type CreateDeviceOptions, type DeviceInfo, type GpuFeatures } from './device.js';
import { faultsFromEnv, GpuDeviceLostError, GpuErrorMonitor, GpuError, type GpuFaults } from './gpu-errors.js';
import { PipelineCache } from './pipeline-cache.js';
import { TimestampProfiler, type KernelTiming } from './profiler.js';
import { CommandRecorder } from './recorder.js';
import { StagingMemoryLostError, StagingRing } from './staging-ring.js';
import type { GpuTarget } from './target.js';
import { DTYPE_BYTES, GpuTensor, numel, shapeStr, type DType, type TensorOwner } from './tensor.js';
import { UniformCache } from './uniform-cache.js';

/** Host data `upload`/`write` accept: f32, i32, u32, or f16 as raw Uint16Array bits. */
export type HostArray = Float32Array | Int32Array | Uint32Array | Uint16Array;

/** Options of `createGpu()` / `Gpu.create()`: device options plus command batching and kernel choice. */
export interface GpuOptions extends CreateDeviceOptions {
  /** Submit automatically after this many recorded dispatches (bounds command-buffer size). */
  maxDispatchesPerSubmit?: number;
  /** Kernel variant choice: forced variants, a tuned cache (see src/kernels/registry.ts). */
  kernels?: KernelSelectorOptions;
  /** Test hooks (simulated out-of-memory, device loss); default from SAM2_GPU_FAULT in Node. */
  faults?: GpuFaults;
  /**
   * Node: the tuned-kernel cache file to read when `kernels.tuned` is not given (default
   * $SAM2_TUNED_CACHE or ~/.cache/sam2-webgpu/tuned-kernels.json); false reads none.
   */
  tunedCache?: false | string;
  /**
   * Reuse bind groups by (pipeline, bound buffers) and uniform buffers by content (default true);
   * false creates a bind group per dispatch with its uniforms in the per-submit arena.
   */
  bindGroupCache?: boolean;
}

/** Reads the tuned-kernel cache file (Node: registered by useDawn, so browser code never reaches `node:fs`). */
export type TunedCacheLoader = (file?: string) => Promise<TuningCache | undefined>;

let tunedCacheLoader: TunedCacheLoader | null = null;

/**
 * Sets how `Gpu.create` reads the tuned-kernel cache when `kernels.tuned` is not given (Node:
 * src/runtime/dawn.ts registers the file loader of src/kernels/tuning/node-cache.ts). `null`: none.
 */
export function setTunedCacheLoader(loader: TunedCacheLoader | null): void {
  tunedCacheLoader = loader;
}

/**
 * Host-side work counters of a Gpu (bench:e2e reports them per slice). A blocking await is a host
 * wait on GPU results that leaves the queue without recorded work behind it (`read*`, `sync`);
 * `readAsync` does not count: its caller records more work before awaiting the data.
 */
export interface GpuCounters {
  /** Kernel launches recorded (dispatches with an empty grid are skipped and not counted). */
  dispatches: number;
  /** Command-buffer submits. */
  submits: number;
  /** Bind groups created (one per dispatch unless cached). */
  bindGroupsCreated: number;
  /** Dispatches that reused a cached bind group. */
  bindGroupCacheHits: number;
  /** `read`, `readRaw`, `readI32` and `sync` calls: host waits that drain the queue. */
  blockingAwaits: number;
  /** `readAsync` calls: readbacks whose data the host awaits later. */
  asyncReads: number;
}

/** Staged upload bytes after which `write` submits the batch (weight loading; per-slice uploads are far smaller). */
const STAGING_BATCH_BYTES = 64 << 20;

let envFaultsTaken = false;

/** SAM2_GPU_FAULT (Node, tests of the CLI): applies to the first device the process creates only, so a resume gets a healthy one. */
function envFaults(): GpuFaults | undefined {
  if (envFaultsTaken || typeof process === 'undefined') return undefined;
  const faults = faultsFromEnv(process.env?.SAM2_GPU_FAULT);
  if (faults) envFaultsTaken = true;
  return faults;
}

/**
 * The engine's handle on one WebGPU device: buffer pool, pipeline cache, command recorder,
 * profiler, kernel-variant selector, and host upload / readback. Create it with `createGpu()`;
 * `destroy()` it when done.
 */
export class Gpu implements TensorOwner {
  /** The WebGPU device. */
  readonly device: GPUDevice;
  /** Adapter, features, limits and kernel target of the device. */
  readonly info: DeviceInfo;
  /** Bucketed reuse of storage buffers (tensors are released back into it). */
  readonly pool: BufferPool;
  /** Compiled compute pipelines by kernel name, variant and constants. */
  readonly pipelines: PipelineCache;
  /** Batches dispatches into command buffers; `flush()` submits them. */
  readonly recorder: CommandRecorder;
  /** Picks a kernel variant per launch for this adapter (forced, tuned, else heuristic). */
  readonly kernels: KernelSelector;
  /** GPU errors and device loss: the first one fails every later call (see gpu-errors.ts). */
  readonly errors: GpuErrorMonitor;
  private profiling = false;
  private profiler: TimestampProfiler | null = null;
  private doneProfilers: TimestampProfiler[] = [];
  private cpuTimings: Promise<{ name: string; flops?: number; bytes?: number; submitted: number; end: number }>[] = [];
  private cpuEpoch = 0;
  private readonly maxDispatches: number;
  private readonly readbackPool = new Map<number, GPUBuffer[]>();
  /** Kernels recorded since the last submit, to name them in a GPU error. */
  private batchKernels = new Set<string>();
  private submits = 0;
  private readonly counts: GpuCounters = { dispatches: 0, submits: 0, bindGroupsCreated: 0, bindGroupCacheHits: 0, blockingAwaits: 0, asyncReads: 0 };
  /** Null when `bindGroupCache: false`. */
  private readonly bindGroups: BindGroupCache | null;
  private readonly uniformBuffers: UniformCache | null;
  private readonly staging: StagingRing;

  private constructor(info: DeviceInfo, opts: GpuOptions) {
    this.info = info;
    this.device = info.device;
    this.errors = new GpuErrorMonitor(this.device);
    const faults = opts.faults ?? envFaults();
    if (faults) this.errors.inject(faults);
    const cached = opts.bindGroupCache ?? true;
    this.bindGroups = cached ? new BindGroupCache(this.device) : null;
    this.pool = new BufferPool(this.device, this.device.limits.maxBufferSize, STORAGE_USAGE, (d) => this.errors.createBuffer(d), (b) => this.bindGroups?.forget(b));
    this.pipelines = new PipelineCache(this.device);
    this.recorder = new CommandRecorder(this.device);
    this.uniformBuffers = cached ? new UniformCache(this.device, () => this.recorder.submits) : null;
    this.staging = new StagingRing((d) => this.errors.createBuffer(d, false));
    this.recorder.hooks = this.staging;
    this.kernels = new KernelSelector(info.target, opts.kernels);
    this.maxDispatches = opts.maxDispatchesPerSubmit ?? 512;
  }

  /** Requests an adapter and device (see `createGpu()`, which is the documented entry). */
  static async create(opts: GpuOptions = {}): Promise<Gpu> {
    const info = await createDevice(opts);
    let kernels = opts.kernels;
    if (!kernels?.tuned && opts.tunedCache !== false && tunedCacheLoader) {
      const tuned = await tunedCacheLoader(opts.tunedCache || undefined);
      if (tuned) kernels = { ...kernels, tuned };
    }
    return new Gpu(info, { ...opts, kernels });
  }

  /** Optional WebGPU features enabled on the device. */
  get features(): GpuFeatures {
    return this.info.features;
  }

  /** Human-readable adapter name, recorded with every benchmark. */
  get adapterName(): string {
    return this.info.adapterName;
  }

  /** What kernels are compiled for (adapter class, vendor, features, limits). */
  get target(): GpuTarget {
    return this.info.target;
  }

  /** Buffer-pool statistics (bytes in use and cached), e.g. to check that memory stays flat. */
  get memory(): PoolStats {
    return this.pool.stats;
  }

  /** Submits of recorded work so far (what a `loseDeviceAfterSubmits` fault counts). */
  get submitted(): number {
    return this.submits;
  }

  /** A snapshot of the host-side work counters (take two and subtract for a per-slice count). */
  get counters(): GpuCounters {
    return { ...this.counts, submits: this.submits };
  }

  /** Throws a clear error if a tensor of `bytes` cannot be bound as one storage buffer here. */
  checkBindingSize(bytes: number, what: string): void {
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new Error(
        `${what} needs a ${(bytes / 2 ** 20).toFixed(1)} MiB storage binding but this adapter's ` +
          `maxStorageBufferBindingSize is ${(max / 2 ** 20).toFixed(1)} MiB (${this.adapterName})`,
      );
    }
  }

  /** An uninitialized tensor from the pool. Release it when done (tensor.release()). */
  empty(shape: readonly number[], dtype: DType = 'f32', label = ''): GpuTensor {
    this.errors.throwIfFailed();
    const bytes = Math.ceil((numel(shape) * DTYPE_BYTES[dtype]) / 4) * 4;
    this.checkBindingSize(bytes, `tensor ${label} ${shapeStr(shape)} ${dtype}`);
    const buf = this.pool.acquire(bytes, label);
    return new GpuTensor(buf, shape, dtype, 0, this, label);
  }

  /** Returns a pooled tensor's buffer to the pool (called by `tensor.release()`). */
  releaseTensor(t: GpuTensor): void {
    this.pool.release(t.buffer);
  }

  /** Uploads host data into a new pooled tensor. f16 data is given as raw Uint16Array bits. */
  upload(data: HostArray, shape: readonly number[], dtype?: DType, label = ''): GpuTensor {
    const dt: DType = dtype ?? (data instanceof Int32Array ? 'i32' : data instanceof Uint32Array ? 'u32' : data instanceof Uint16Array ? 'f16' : 'f32');
    if (data.length !== numel(shape)) {
      throw new Error(`upload ${label}: ${data.length} values do not fill shape ${shapeStr(shape)}`);
    }
    const t = this.empty(shape, dt, label);
    this.write(t, data);
    return t;
  }

  /**
   * Overwrites a tensor's contents from the host, in order with the work recorded around it: the
   * data goes through the staging ring and its copy is recorded in the command stream (no submit).
   */
  write(t: GpuTensor, data: HostArray): void {
    // After a loss uploads are silent no-ops: say so instead.
    this.errors.throwIfFailed();
    let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.byteLength % 4) {
      const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      padded.set(bytes);
      bytes = padded;
    }
    try {
      this.staging.upload(this.recorder.commandEncoder(), t.buffer, t.offset, bytes);
    } catch (e) {
      // device.destroy() detaches the staging mappings before the device-lost notice arrives (same words as Dawn's notice).
      if (e instanceof StagingMemoryLostError) throw this.errors.error ?? new GpuDeviceLostError('destroyed', 'device was destroyed');
      throw e;
    }
    // Bulk uploads (weights) only: bound the staging memory held by one unsubmitted batch.
    if (this.staging.batchBytes > STAGING_BATCH_BYTES) this.flush();
  }

  /** A pooled copy of a tensor (recorded in order with the dispatches around it). */
  clone(t: GpuTensor, label = t.label): GpuTensor {
    const c = this.empty(t.shape, t.dtype, label);
    const size = Math.ceil(t.byteLength / 4) * 4;
    this.recorder.commandEncoder().copyBufferToBuffer(t.buffer, t.offset, c.buffer, c.offset, size);
    return c;
  }

  /** Records one kernel launch. */
  run(p: KernelProgram): void {
    this.errors.throwIfFailed();
    this.batchKernels.add(p.name);
    const pipeline = this.pipelines.get(p);
    const ranges: BoundRange[] = p.bindings.map((t, i) => {
      if (t.isReleased) throw new Error(`${p.name}: binding ${i} (${t.label}) was released before use`);
      const size = Math.ceil(t.byteLength / 4) * 4;
      this.checkBindingSize(size, `${p.name} binding ${i} (${t.label} ${shapeStr(t.shape)})`);
      if (t.offset % this.device.limits.minStorageBufferOffsetAlignment) {
        throw new Error(`${p.name}: binding ${i} (${t.label}) offset ${t.offset} is not aligned for a storage binding`);
      }
      return { buffer: t.buffer, offset: t.offset, size: Math.max(size, 4) };
    });
    for (const w of p.workgroups) {
      if (!Number.isInteger(w) || w < 0 || w > this.device.limits.maxComputeWorkgroupsPerDimension) {
        throw new Error(`${p.name}: invalid workgroup count ${JSON.stringify(p.workgroups)}`);
      }
    }
    if (p.workgroups.some((w) => w === 0)) return;
    let bindGroup: GPUBindGroup;
    if (this.bindGroups && this.uniformBuffers) {
      if (p.uniforms) ranges.push(this.uniformBuffers.get(p.uniforms) as BoundRange);
      const { group, hit } = this.bindGroups.get(pipeline, ranges, p.name);
      bindGroup = group;
      if (hit) this.counts.bindGroupCacheHits++;
      else this.counts.bindGroupsCreated++;
    } else {
      const entries: GPUBindGroupEntry[] = ranges.map((r, i) => ({ binding: i, resource: { buffer: r.buffer, offset: r.offset, size: r.size } }));
      if (p.uniforms) entries.push({ binding: p.bindings.length, resource: this.recorder.uniform(p.uniforms) });
      bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: p.name });
      this.counts.bindGroupsCreated++;
    }
    this.counts.dispatches++;
    if (this.profiling && !this.features.timestamps) {
      this.recorder.dispatch(pipeline, bindGroup, p.workgroups);
      const submitted = performance.now();
      if (this.cpuTimings.length === 0) this.cpuEpoch = submitted;
      this.recorder.submit();
      const name = programKey(p);
      this.cpuTimings.push(
        this.device.queue.onSubmittedWorkDone().then(() => ({ name, flops: p.flops, bytes: p.bytes, submitted, end: performance.now() })),
      );
      return;
    }
    let tw: GPUComputePassTimestampWrites | undefined;
    if (this.profiling) {
      this.profiler ??= new TimestampProfiler(this.device);
      tw = this.profiler.next(programKey(p), p.flops, p.bytes);
    }
    this.recorder.dispatch(pipeline, bindGroup, p.workgroups, tw);
    if (this.recorder.pending >= this.maxDispatches || this.profiler?.full) this.flush();
  }

  /**
   * Records the launches of the variant the selector picks for `spec` (forced, tuned or
   * heuristic). Scratch tensors of multi-pass variants go back to the pool once recorded: later
   * work reusing them is ordered after these dispatches.
   */
  runOp<S>(family: OpFamily<S>, spec: S): void {
    const scratch: GpuTensor[] = [];
    const programs = this.kernels.build(family, spec, (shape, dtype, label) => {
      const t = this.empty(shape, dtype, label);
      scratch.push(t);
      return t;
    });
    try {
      for (const p of programs) this.run(p);
    } finally {
      for (const t of scratch) t.release();
    }
  }

  /**
   * Copies `src` into `dst` (views allowed, e.g. one item of a batch), recorded in order with the
   * dispatches around it. Both must hold the same number of bytes, a multiple of 4.
   */
  copyInto(src: GpuTensor, dst: GpuTensor): void {
    if (src.byteLength !== dst.byteLength || src.byteLength % 4 !== 0) {
      throw new Error(`copyInto: ${src.label} ${shapeStr(src.shape)} ${src.dtype} (${src.byteLength} B) does not fit ${dst.label} ${shapeStr(dst.shape)} ${dst.dtype} (${dst.byteLength} B)`);
    }
    if (src.isReleased || dst.isReleased) throw new Error(`copyInto: ${src.isReleased ? src.label : dst.label} was released`);
    this.recorder.commandEncoder().copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, src.byteLength);
  }

  /** Submits everything recorded so far; errors of the submit are named by its kernels. */
  flush(): void {
    if (this.profiler) {
      this.profiler.resolve(this.recorder.commandEncoder());
      this.doneProfilers.push(this.profiler);
      this.profiler = null;
    }
    if (!this.recorder.hasWork) return;
    this.recorder.submit();
    this.submits++;
    this.errors.cycle(this.describeBatch());
    this.batchKernels.clear();
    this.errors.afterSubmit();
  }

  private describeBatch(): string {
    const names = [...this.batchKernels];
    const shown = names.slice(0, 6).join(', ');
    return names.length === 0 ? `submit ${this.submits} (copies and uploads)` : `submit ${this.submits} (kernels ${shown}${names.length > 6 ? `, and ${names.length - 6} more` : ''})`;
  }

  /**
   * Flushes and waits for the GPU to finish; surfaces compile errors with kernel names, GPU
   * errors (out of memory, validation) with the tensor or kernels involved, and device loss.
   */
  async sync(): Promise<void> {
    this.counts.blockingAwaits++;
    this.flush();
    this.errors.cycle('work recorded before a sync');
    await this.device.queue.onSubmittedWorkDone();
    await this.pipelines.checkErrors();
    await this.errors.check();
  }

  private readbackBuffer(size: number): GPUBuffer {
    const list = this.readbackPool.get(size);
    return list?.pop() ?? this.errors.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' }, false);
  }

  /**
   * Copies a tensor back to the host. f16 tensors come back as raw Uint16Array bits. The data is
   * returned only when no GPU error happened up to and including this copy: a readback after a
   * failed allocation would otherwise return whatever the staging buffer held before.
   */
  async readRaw(t: GpuTensor): Promise<ArrayBuffer> {
    this.counts.blockingAwaits++;
    return this.readback(t);
  }

  /**
   * Starts copying a tensor back to the host and returns the data's promise without waiting: the
   * caller records the next work (e.g. slice t+1) before awaiting it, so the queue never drains
   * for it. The copy is ordered after the work recorded so far; the tensor may be released once
   * this returns. Errors are checked as in `readRaw`.
   */
  readAsync(t: GpuTensor): Promise<ArrayBuffer> {
    this.counts.asyncReads++;
    return this.readback(t);
  }

  private async readback(t: GpuTensor): Promise<ArrayBuffer> {
    this.errors.throwIfFailed();
    const size = Math.ceil(t.byteLength / 4) * 4;
    const staging = this.readbackBuffer(size);
    this.recorder.commandEncoder().copyBufferToBuffer(t.buffer, t.offset, staging, 0, size);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, size);
    } catch (e) {
      // A lost device aborts the map with an empty AbortError: report the loss itself.
      const lost = await this.errors.lostError();
      if (lost) throw lost;
      await this.errors.check();
      throw new GpuError(`reading back tensor "${t.label}" failed: ${(e as Error).message || (e as Error).name}`, 'internal', `tensor "${t.label}"`);
    }
    const out = staging.getMappedRange(0, size).slice(0, t.byteLength);
    staging.unmap();
    await this.pipelines.checkErrors();
    await this.errors.check();
    let list = this.readbackPool.get(size);
    if (!list) this.readbackPool.set(size, (list = []));
    list.push(staging);
    return out;
  }

  /** Copies an f32 tensor back to the host (submits recorded work and waits for it). */
  async read(t: GpuTensor): Promise<Float32Array> {
    if (t.dtype !== 'f32') throw new Error(`read(${t.label}): tensor is ${t.dtype}; use readRaw`);
    return new Float32Array(await this.readRaw(t));
  }

  /** Copies a 32-bit integer tensor back to the host. */
  async readI32(t: GpuTensor): Promise<Int32Array> {
    return new Int32Array(await this.readRaw(t));
  }

  /**
   * Starts per-kernel timing of every following launch until `stopProfiling`. With timestamp
   * queries each dispatch gets its own pass bracketed by GPU timestamps; without them every
   * dispatch is submitted alone and timed by the spacing of completion times on the CPU clock
   * (the queue stays busy, so the spacing is the kernel's time plus launch overhead).
   */
  startProfiling(): void {
    this.flush();
    this.profiling = true;
  }

  /** Stops profiling and returns the per-kernel timings since `startProfiling`, and their clock. */
  async stopProfiling(): Promise<{ timings: KernelTiming[]; source: 'timestamp' | 'cpu' }> {
    this.flush();
    this.profiling = false;
    await this.device.queue.onSubmittedWorkDone();
    const timings: KernelTiming[] = [];
    for (const p of this.doneProfilers) {
      timings.push(...(await p.collect()));
      p.destroy();
    }
    this.doneProfilers = [];
    const cpu = await Promise.all(this.cpuTimings);
    this.cpuTimings = [];
    let prev = this.cpuEpoch;
    for (const c of cpu) {
      timings.push({ name: c.name, flops: c.flops, bytes: c.bytes, ns: (c.end - Math.max(prev, c.submitted)) * 1e6 });
      prev = c.end;
    }
    await this.pipelines.checkErrors();
    return { timings, source: this.features.timestamps ? 'timestamp' : 'cpu' };
  }

  /** Frees the pooled buffers and destroys the device; the Gpu cannot be used afterwards. */
  destroy(): void {
    this.pool.trim();
    this.recorder.destroy();
    this.staging.destroy();
    this.bindGroups?.clear();
    this.uniformBuffers?.destroy();
    this.profiler?.destroy();
    for (const p of this.doneProfilers) p.destroy();
    this.device.destroy();
  }
}
