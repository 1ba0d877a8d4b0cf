// The parity suites again, with the kernel selector choosing as if the adapter were a GPU
// (targetOverride kind 'gpu'): the GPU-class heuristics pick their variants (tiled / subgroup GEMM,
// implicit-GEMM conv, and whatever families are added later) while the real adapter's features
// still decide what is supported. The image encoder, SAM heads and memory path parity tests are
// imported into this file and run unchanged on the micro fixtures (all image fixtures with
// SAM2_FULL=1). Then, for every launch of every op family: wherever a variant other than the CPU
// default supports the spec, a non-CPU variant must have run; a new family is covered with no edit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Choice, OpFamily } from '../../src/kernels/registry.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { getTestGpu } from '../helpers/gpu.js';

if (process.env.SAM2_FULL !== '1') process.env.SAM2_PARITY_ONLY ??= '^micro';

interface Launch {
  family: OpFamily<unknown>;
  spec: unknown;
  choice: Choice<unknown>;
}

const launches: Launch[] = [];
let gpu: Gpu;
let stop = (): void => {};

beforeAll(async () => {
  gpu = await getTestGpu();
  gpu.kernels.setTargetOverride({ kind: 'gpu' });
  stop = gpu.kernels.observe((family, spec, choice) => launches.push({ family, spec, choice }));
});

afterAll(() => {
  stop();
  gpu?.kernels.setTargetOverride(undefined);
});

await import('./image-encoder.test.js');
await import('./sam-heads.test.js');
await import('./memory.test.js');

describe('GPU-tier variants', () => {
  it('every family launch that a non-CPU variant supports ran a non-CPU variant', () => {
    const real = gpu.kernels.realTarget;
    const cpu = { ...real, kind: 'cpu' as const };
    const ran = new Map<string, number>();
    const wrong: string[] = [];
    for (const { family, spec, choice } of launches) {
      const id = choice.variant.id;
      ran.set(`${family.op}:${id}`, (ran.get(`${family.op}:${id}`) ?? 0) + 1);
      const cpuId = family.heuristic(spec, cpu);
      const gpuCapable = family.variants.some((v) => v.id !== cpuId && v.supports(spec, real));
      if (gpuCapable && id === cpuId) wrong.push(`${family.op} ${family.bucket(spec)} ran ${id}`);
    }
    console.log(`GPU-tier launches: ${[...ran].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    expect(wrong, wrong.slice(0, 5).join('; ')).toEqual([]);
    // The families this suite must reach (others join as they become families).
    expect([...ran.keys()].some((k) => k.startsWith('matmul:matmul-tiled'))).toBe(true);
    expect([...ran.keys()].some((k) => k.startsWith('conv:conv-igemm'))).toBe(true);
  });
});
