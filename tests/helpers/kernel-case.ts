// A kernel test case that runs unchanged under vitest (Node, Dawn) and in a browser page
// (Chromium, WebGPU on SwiftShader): no vitest import, failures are thrown Errors.
import type { Gpu } from '../../src/runtime/gpu.js';

export interface KernelCase {
  name: string;
  run(gpu: Gpu): Promise<void>;
}
