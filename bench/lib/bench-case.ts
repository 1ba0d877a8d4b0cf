// What a kernel benchmark case is: a named kernel launch at one real SAM 2 shape. Cases live in
// bench/kernels/<op>.bench.ts files (exporting `benches: BenchCase[]`), found by bench/kernels/run.ts.
import type { Gpu } from '../../src/runtime/gpu.js';

/** Image side the case's shapes come from. 1024-px cases run only with `--full`; 0 = size-independent. */
export type ImageSize = 512 | 1024 | 0;

export interface BenchInstance {
  /** Records one run of the kernel(s) under test: launcher calls only (no sync, no read). */
  launch(): void;
  /** Releases the tensors allocated by setup. */
  release(): void;
}

export interface BenchCase {
  /** Unique and readable: what SAM 2 computes here and its shape, e.g. `linear hiera-t blk0 qkv 16384x96->288`. */
  name: string;
  imageSize: ImageSize;
  /** Allocates (random) inputs and outputs; the returned launch is timed. */
  setup(gpu: Gpu): BenchInstance;
}

/** Builds one case per image size from a shape function, naming each `<name> @<S>`. */
export function atSizes(sizes: Array<512 | 1024>, make: (s: 512 | 1024) => Omit<BenchCase, 'imageSize'>): BenchCase[] {
  return sizes.map((s) => {
    const c = make(s);
    return { ...c, name: `${c.name} @${s}`, imageSize: s };
  });
}
