// Records the real launch specs of a model run through the kernel selector's launch observer, one
// per (op, shape bucket), with how often each bucket occurred. Any op family the model launches is
// recorded, including families added later.
import type { OpFamily } from '../../src/kernels/registry.js';
import type { Gpu } from '../../src/runtime/gpu.js';

export interface RecordedLaunch {
  family: OpFamily<unknown>;
  bucket: string;
  /** The first spec seen in this bucket (its tensors may be released since: only shapes are used). */
  spec: unknown;
  count: number;
  /** Image sizes whose run launched it. */
  sizes: Set<number>;
}

export class LaunchRecorder {
  readonly launches = new Map<string, RecordedLaunch>();

  /** Records every launch `run` makes; the work itself runs normally. */
  async record(gpu: Gpu, size: number, run: () => Promise<void>): Promise<void> {
    const stop = gpu.kernels.observe((family, spec) => {
      const bucket = family.bucket(spec);
      const key = `${family.op}\u0000${bucket}`;
      const seen = this.launches.get(key);
      if (seen) {
        seen.count++;
        seen.sizes.add(size);
      } else this.launches.set(key, { family, bucket, spec, count: 1, sizes: new Set([size]) });
    });
    try {
      await run();
      await gpu.sync();
    } finally {
      stop();
    }
  }

  list(ops?: string[]): RecordedLaunch[] {
    return [...this.launches.values()].filter((l) => !ops || ops.includes(l.family.op));
  }
}
