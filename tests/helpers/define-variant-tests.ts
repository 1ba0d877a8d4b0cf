// Runs an op's kernel cases once per variant of its family, with that variant forced on the shared
// test Gpu. A variant that does not support a case's launch falls back to the default (the
// selector counts it); each variant must really run on at least one launch of the suite, or the
// suite fails: a forced variant that never ran would test nothing.
import { describe, it } from 'vitest';
import type { KernelConfig, OpFamily } from '../../src/kernels/registry.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { getTestGpu } from './gpu.js';
import type { KernelCase } from './kernel-case.js';

export interface VariantUnderTest {
  id: string;
  /** A config other than the variant's default (e.g. a second tile shape). */
  cfg?: KernelConfig;
  /** Suffix for the suite name when the same id is tested with several configs. */
  label?: string;
}

/** Runs `run` with `op` forced to `pick`; returns how many launches used the variant. */
export async function withForced(gpu: Gpu, op: string, pick: VariantUnderTest, run: () => Promise<void>): Promise<number> {
  const before = gpu.kernels.usage.get(pick.id) ?? 0;
  const previous = gpu.kernels.forced(op);
  gpu.kernels.setForced(op, { id: pick.id, cfg: pick.cfg });
  try {
    await run();
  } finally {
    gpu.kernels.setForced(op, previous);
  }
  return (gpu.kernels.usage.get(pick.id) ?? 0) - before;
}

export function defineVariantTests<S>(family: OpFamily<S>, cases: KernelCase[], variants: VariantUnderTest[] = family.variants.map((v) => ({ id: v.id }))): void {
  for (const v of variants) {
    const title = `${family.op} forced ${v.id}${v.label ? ` (${v.label})` : ''}`;
    describe(title, () => {
      let launches = 0;
      for (const c of cases) {
        it(c.name, async () => {
          const gpu = await getTestGpu();
          const variant = family.variants.find((x) => x.id === v.id);
          if (!variant) throw new Error(`${family.op}: no variant ${v.id}`);
          launches += await withForced(gpu, family.op, v, () => c.run(gpu));
        });
      }
      it('the forced variant ran', async () => {
        const gpu = await getTestGpu();
        // A variant needing a feature this adapter lacks (subgroup-matrix on lavapipe) cannot run here;
        // its compile test covers it.
        if (launches === 0 && !requiresMissingFeature(gpu, v.id)) {
          throw new Error(`${v.id} never ran: every case fell back to another variant`);
        }
      });
    });
  }
}

function requiresMissingFeature(gpu: Gpu, id: string): boolean {
  const t = gpu.target;
  return (/subgroup-matrix|sgmat/.test(id) && t.subgroupMatrix.length === 0) || (/subgroup/.test(id) && !t.subgroups) || (/f16/.test(id) && !t.f16);
}
