// One shared Gpu per test worker (Node) or page (browser). Kernel tests FAIL without an adapter:
// a skipped GPU test would hide a broken CI.
import { Gpu } from '../../src/runtime/gpu.js';

let shared: Promise<Gpu> | null = null;

export function getTestGpu(): Promise<Gpu> {
  // No tuned-kernel cache: a developer's `npm run bench:tune` must not change what the tests run.
  shared ??= Gpu.create({ tunedCache: false }).catch((e) => {
    shared = null;
    throw new Error(`no WebGPU adapter for the tests: ${(e as Error).message}`);
  });
  return shared;
}
