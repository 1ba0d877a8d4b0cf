// A kernel case run with one variant forced (and a check that it really ran where the adapter
// supports it), usable in Node and in the browser page (no vitest import): the GPU-class variants
// then also run on Chromium's SwiftShader, whose subgroups have 4 lanes.
import type { VariantPick } from '../../src/kernels/registry.js';
import type { KernelCase } from './kernel-case.js';

export function forcedCase(c: KernelCase, op: string, pick: VariantPick, mustRun: (gpu: Parameters<KernelCase['run']>[0]) => boolean = () => true): KernelCase {
  return {
    name: `${c.name} [${pick.id}${pick.cfg ? ` ${Object.entries(pick.cfg).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}]`,
    async run(gpu) {
      const before = gpu.kernels.usage.get(pick.id) ?? 0;
      const previous = gpu.kernels.forced(op);
      gpu.kernels.setForced(op, pick);
      try {
        await c.run(gpu);
      } finally {
        gpu.kernels.setForced(op, previous);
      }
      if (mustRun(gpu) && (gpu.kernels.usage.get(pick.id) ?? 0) === before) throw new Error(`${pick.id} never ran (the case fell back to another variant)`);
    },
  };
}
