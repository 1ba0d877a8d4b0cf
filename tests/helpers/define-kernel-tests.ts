import { describe, it } from 'vitest';
import { getTestGpu } from './gpu.js';
import type { KernelCase } from './kernel-case.js';

export function defineKernelTests(op: string, cases: KernelCase[]): void {
  describe(op, () => {
    for (const c of cases) it(c.name, async () => c.run(await getTestGpu()));
  });
}
