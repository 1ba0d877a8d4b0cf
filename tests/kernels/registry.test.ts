// Variant selection: forced (option and SAM2_KERNELS), tuned cache, heuristic, fallbacks, and the
// adapter target of the test device.
import { describe, expect, it } from 'vitest';
import { cfgConsts, cfgKey, KernelSelector, parseForceList, type KernelVariant, type OpFamily } from '../../src/kernels/registry.js';
import { makeTarget, type GpuTarget } from '../../src/runtime/target.js';
import { getTestGpu } from '../helpers/gpu.js';

interface Spec {
  n: number;
}

const limits = {
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxStorageBufferBindingSize: 1 << 27,
} as unknown as GPUSupportedLimits;

const cpu = makeTarget({ adapterName: 'llvmpipe (LLVM 15)', isFallbackAdapter: false, f16: true, subgroups: true, subgroupMatrix: false, limits, adapterInfo: { vendor: 'mesa', subgroupMinSize: 8, subgroupMaxSize: 8 } });
const gpuT = makeTarget({ adapterName: 'nvidia hopper H100', isFallbackAdapter: false, f16: true, subgroups: true, subgroupMatrix: false, limits, adapterInfo: { vendor: 'nvidia', subgroupMinSize: 32, subgroupMaxSize: 32 } });

const variant = (id: string, supports: (s: Spec, t: GpuTarget) => boolean): KernelVariant<Spec> => ({
  id,
  supports,
  configs: () => [{ T: 1 }, { T: 2 }],
  build: () => [],
});

const family: OpFamily<Spec> = {
  op: 'toy',
  variants: [variant('toy-cpu', () => true), variant('toy-even', (s) => s.n % 2 === 0), variant('toy-gpu', (_, t) => t.kind === 'gpu')],
  bucket: (s) => `n${s.n}`,
  heuristic: (_, t) => (t.kind === 'cpu' ? 'toy-cpu' : 'toy-gpu'),
};

describe('kernel variant selection', () => {
  it('classifies adapters', () => {
    expect(cpu.kind).toBe('cpu');
    expect(gpuT.kind).toBe('gpu');
    expect(gpuT.vendor).toBe('nvidia');
    expect(cpu.subgroupMinSize).toBe(8);
  });

  it('heuristic per adapter class', () => {
    expect(new KernelSelector(cpu, { env: false }).pick(family, { n: 3 }).variant.id).toBe('toy-cpu');
    const c = new KernelSelector(gpuT, { env: false }).pick(family, { n: 3 });
    expect([c.variant.id, c.source, c.cfg.T]).toEqual(['toy-gpu', 'heuristic', 1]);
  });

  it('forced beats tuned beats heuristic; unsupported forced falls back and is counted', () => {
    const tuned = { get: (_a: string, op: string, b: string) => (op === 'toy' && b === 'n4' ? { id: 'toy-even', cfg: { T: 2 } } : undefined) };
    const s = new KernelSelector(cpu, { env: false, tuned });
    expect(s.pick(family, { n: 4 })).toMatchObject({ source: 'tuned', cfg: { T: 2 } });
    expect(s.pick(family, { n: 4 }).variant.id).toBe('toy-even');
    s.setForced('toy', 'toy-even');
    expect(s.pick(family, { n: 6 }).source).toBe('forced');
    expect(s.pick(family, { n: 5 }).variant.id).toBe('toy-cpu');
    expect(s.fallbacks.get('toy')).toBe(1);
    const strict = new KernelSelector(cpu, { env: false, strict: true, force: { toy: 'toy-even' } });
    expect(() => strict.pick(family, { n: 5 })).toThrow(/forced variant toy-even does not support/);
    expect(() => new KernelSelector(cpu, { env: false, force: { toy: 'nope' } }).pick(family, { n: 1 })).toThrow(/unknown kernel variant "nope".*toy-cpu/);
  });

  it('a target override runs the GPU heuristics on a CPU adapter', () => {
    const s = new KernelSelector(cpu, { env: false, targetOverride: { kind: 'gpu' } });
    expect(s.pick(family, { n: 3 }).variant.id).toBe('toy-gpu');
    s.setTargetOverride(undefined);
    expect(s.pick(family, { n: 3 }).variant.id).toBe('toy-cpu');
    expect(s.realTarget.kind).toBe('cpu');
  });

  it('parses SAM2_KERNELS and config keys', () => {
    expect(parseForceList('matmul=matmul-tiled:TM=64:TN=32, attention=attention-flash')).toEqual({
      matmul: { id: 'matmul-tiled', cfg: { TM: 64, TN: 32 } },
      attention: { id: 'attention-flash' },
    });
    expect(() => parseForceList('matmul')).toThrow(/not op=variant/);
    expect(() => parseForceList('matmul=x:TM=big')).toThrow(/bad config/);
    expect(cfgKey({ TN: 64, TM: 32 })).toBe('TM32-TN64');
    expect(cfgConsts({ TM: 32 })).toBe('const TM: u32 = 32u;');
    expect(() => cfgConsts({ TM: 1.5 })).toThrow(/unsigned integer/);
  });

  it('the test device reports a target, and a software adapter counts as cpu', async () => {
    const gpu = await getTestGpu();
    const t = gpu.target;
    expect(['cpu', 'gpu']).toContain(t.kind);
    if (/llvmpipe|swiftshader/i.test(gpu.adapterName)) expect(t.kind).toBe('cpu');
    if (t.subgroups) expect(t.subgroupMinSize).toBeGreaterThanOrEqual(4);
    expect(t.limits.maxWorkgroupStorageBytes).toBeGreaterThanOrEqual(16384);
  });
});
