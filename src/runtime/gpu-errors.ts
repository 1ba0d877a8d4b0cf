// GPU errors are asynchronous in WebGPU: a failed allocation returns an invalid buffer, every
// later use of it fails too, and without a listener nothing is reported: a readback from a pooled
// staging buffer then returns the previous tensor's data. This monitor makes every error count:
// - allocations run inside out-of-memory / validation / internal error scopes that name the tensor;
// - everything recorded between two submits runs inside one set of scopes, named by the submit's
//   kernels;
// - an `uncapturederror` listener catches whatever escapes the scopes;
// - device loss is recorded with its reason.
// The first error fails the run: `throwIfFailed` (cheap, synchronous) before new work and `check`
// (awaits the scopes) before a readback is trusted.

/** What a `GpuError` was: the GPU ran out of memory, an invalid use (validation), or a driver-internal error. */
export type GpuErrorKind = 'out-of-memory' | 'validation' | 'internal';

/** An error the GPU reported (out of memory, invalid use, driver internal), naming what failed. */
export class GpuError extends Error {
  /** Always 'GpuError'. */
  override name = 'GpuError';

  constructor(
    message: string,
    /** Out of memory, validation, or internal. */
    readonly kind: GpuErrorKind,
    /** The tensor or kernels involved. */
    readonly what: string,
  ) {
    super(message);
  }
}

/** The device is gone (driver reset, GPU removed, `device.destroy()`): nothing on it can be used. */
export class GpuDeviceLostError extends Error {
  /** Always 'GpuDeviceLostError'. */
  override name = 'GpuDeviceLostError';

  constructor(
    /** GPUDeviceLostInfo.reason: 'destroyed' or 'unknown'. */
    readonly reason: string,
    /** GPUDeviceLostInfo.message: the driver's words, may be empty. */
    readonly detail: string,
  ) {
    super(`GPU device lost: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/** Test hooks: make the engine fail the way a real GPU can. */
export interface GpuFaults {
  /** The n-th tensor allocation (buffer pool) from now (1 = the next one) fails as if out of memory. */
  failAllocation?: number;
  /** The device is destroyed right after the n-th submit from now (a device loss mid-run). */
  loseDeviceAfterSubmits?: number;
}

/**
 * Faults from the environment, for end-to-end tests of the CLI: SAM2_GPU_FAULT="oom:N" (the N-th
 * tensor allocation fails) or "lost:N" (device lost after N submits), on the first device only.
 */
export function faultsFromEnv(value: string | undefined): GpuFaults | undefined {
  if (!value) return undefined;
  const m = /^(oom|lost):(\d+)$/.exec(value.trim());
  if (!m) throw new Error(`SAM2_GPU_FAULT must be "oom:N" or "lost:N", got "${value}"`);
  return m[1] === 'oom' ? { failAllocation: Number(m[2]) } : { loseDeviceAfterSubmits: Number(m[2]) };
}

interface Recorded {
  seq: number;
  kind: GpuErrorKind;
  message: string;
  what: string;
  /** A root cause (a failed allocation) rather than a consequence ("invalid due to a previous error"). */
  root: boolean;
}

const FILTERS: GPUErrorFilter[] = ['internal', 'out-of-memory', 'validation'];
/** Errors kept for the report; an error storm after the first failure is only counted. */
const MAX_RECORDED = 64;

function kindOf(e: GPUError): GpuErrorKind {
  const n = e.constructor?.name ?? '';
  if (/OutOfMemory/i.test(n)) return 'out-of-memory';
  if (/Internal/i.test(n)) return 'internal';
  return 'validation';
}

function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** The first line of a driver message (Dawn appends "While calling ..." context lines). */
function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

export class GpuErrorMonitor {
  private readonly recorded: Recorded[] = [];
  /** Errors beyond the first MAX_RECORDED (counted, not kept). */
  private dropped = 0;
  /** Scope pops not resolved yet (each removes itself when it resolves). */
  private readonly pending = new Set<Promise<void>>();
  private seq = 0;
  private lostInfo: { reason: string; message: string } | null = null;
  private readonly lostSeen: Promise<void>;
  private faults: GpuFaults = {};
  private failure: Error | null = null;

  constructor(private readonly device: GPUDevice) {
    device.addEventListener('uncapturederror', (ev) => {
      const error = (ev as GPUUncapturedErrorEvent).error;
      this.record({ seq: this.seq++, kind: kindOf(error), message: error.message, what: 'a GPU call outside any error scope', root: false });
    });
    this.lostSeen = device.lost.then((info) => {
      this.lostInfo = { reason: info.reason, message: info.message };
    });
    this.push();
  }

  /** Sets test faults (see GpuFaults). */
  inject(faults: GpuFaults): void {
    this.faults = { ...faults };
  }

  private push(): void {
    for (const f of FILTERS) this.device.pushErrorScope(f);
  }

  /**
   * Pops the three scopes pushed by `push`, recording what they caught; `simulated` replaces it
   * (a test fault arrives asynchronously, like a real error).
   */
  private pop(what: string, root: boolean, simulated?: { kind: GpuErrorKind; message: string }): Promise<void> {
    const seq = this.seq++;
    const pops = FILTERS.map(() => this.device.popErrorScope());
    const done: Promise<void> = Promise.all(pops)
      .then(
        (errors) => {
          if (simulated) {
            this.record({ seq, ...simulated, what, root: true });
            return;
          }
          for (const e of errors) if (e) this.record({ seq, kind: kindOf(e), message: e.message, what, root: root || kindOf(e) === 'out-of-memory' });
        },
        () => undefined, // popErrorScope rejects only when the device is lost: reported as such
      )
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
    return done;
  }

  private record(r: Recorded): void {
    if (this.recorded.length >= MAX_RECORDED) {
      this.dropped++;
      return;
    }
    this.recorded.push(r);
    this.failure = null; // recomputed lazily: a root cause may arrive after its consequences
  }

  /**
   * Closes the scopes around everything recorded since the last call and opens new ones. `what`
   * names the work (the kernels of a submit) in any error they caught.
   */
  cycle(what: string): void {
    this.pop(what, false);
    this.push();
  }

  /**
   * Creates a buffer inside its own error scopes, so an allocation failure names the tensor.
   * `tensor` marks buffer-pool allocations, the ones a failAllocation fault counts.
   */
  createBuffer(desc: GPUBufferDescriptor, tensor = true): GPUBuffer {
    const label = desc.label ? `"${desc.label}"` : '(unlabeled)';
    const what = `${tensor ? 'tensor' : 'buffer'} ${label} (${formatBytes(desc.size)})`;
    this.push();
    let buffer: GPUBuffer;
    if (tensor && this.faults.failAllocation !== undefined && --this.faults.failAllocation <= 0) {
      this.faults.failAllocation = undefined;
      // An invalid buffer, as the driver returns when memory runs out (size past every limit).
      buffer = this.device.createBuffer({ ...desc, size: this.device.limits.maxBufferSize + 4 });
      this.pop(what, true, { kind: 'out-of-memory', message: 'out of memory (simulated by a test fault)' });
      return buffer;
    }
    buffer = this.device.createBuffer(desc);
    this.pop(what, true);
    return buffer;
  }

  /** Called after each submit: applies a pending device-loss fault. */
  afterSubmit(): void {
    if (this.faults.loseDeviceAfterSubmits !== undefined && --this.faults.loseDeviceAfterSubmits <= 0) {
      this.faults.loseDeviceAfterSubmits = undefined;
      this.device.destroy();
    }
  }

  /** Whether the device was lost (as far as the browser or Dawn has told us). */
  get lost(): boolean {
    return this.lostInfo !== null;
  }

  /** The error that fails the run, if any: device loss first, then the earliest root cause. */
  get error(): Error | null {
    if (this.lostInfo) return new GpuDeviceLostError(this.lostInfo.reason, this.lostInfo.message);
    if (this.recorded.length === 0) return null;
    if (!this.failure) {
      const sorted = [...this.recorded].sort((a, b) => a.seq - b.seq);
      const first = sorted.find((r) => r.root) ?? sorted[0];
      const more = this.recorded.length - 1 + this.dropped;
      const what =
        first.kind === 'out-of-memory'
          ? `GPU out of memory allocating ${first.what}`
          : `GPU ${first.kind} error in ${first.what}`;
      this.failure = new GpuError(
        `${what}: ${firstLine(first.message)}${more > 0 ? ` (${more} later GPU error${more === 1 ? '' : 's'} followed from it)` : ''}`,
        first.kind,
        first.what,
      );
    }
    return this.failure;
  }

  /** Throws the run's error, if one is known already (synchronous, cheap: call before new work). */
  throwIfFailed(): void {
    const e = this.error;
    if (e) throw e;
  }

  /** Waits for every error scope closed so far and throws the run's error, if any. */
  async check(): Promise<void> {
    // The scopes closed up to now cover all work submitted before this call.
    await Promise.all([...this.pending]);
    this.throwIfFailed();
  }

  /**
   * After a failed map or an aborted operation: waits briefly for the device-lost notice and
   * returns the loss (or null when the device is still there).
   */
  async lostError(timeoutMs = 1000): Promise<GpuDeviceLostError | null> {
    if (!this.lostInfo) {
      await Promise.race([this.lostSeen, new Promise((r) => setTimeout(r, timeoutMs))]);
    }
    return this.lostInfo ? new GpuDeviceLostError(this.lostInfo.reason, this.lostInfo.message) : null;
  }
}
