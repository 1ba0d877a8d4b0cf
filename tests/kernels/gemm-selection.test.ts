// GEMM variant choice per adapter class, config validation, and the subgroup-matrix variant, which
// no adapter here can run: its WGSL is generated for a representative NVIDIA-like fragment shape and
// checked for what the feature requires, and the selector must never pick it on this adapter.
import { describe, expect, it } from 'vitest';
import { linearSpec, matmulSpec, validateGemm } from '../../src/kernels/matmul/matmul.js';
import { sgmatConfigs, sgmatProgram } from '../../src/kernels/matmul/sgmat.js';
import { subgroupConfigProblem } from '../../src/kernels/matmul/subgroup.js';
import { tiledConfigs, tiledProgram, tiledRows } from '../../src/kernels/matmul/tiled.js';
import { GEMM_FAMILY } from '../../src/kernels/matmul/variants.js';
import { KernelSelector } from '../../src/kernels/registry.js';
import { makeTarget, type GpuTarget } from '../../src/runtime/target.js';
import { GpuTensor, type DType } from '../../src/runtime/tensor.js';
import { getTestGpu } from '../helpers/gpu.js';

const limits = {
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxStorageBufferBindingSize: 1 << 30,
} as unknown as GPUSupportedLimits;

const nvidia = (subgroupMatrix: boolean): GpuTarget =>
  makeTarget({
    adapterName: 'nvidia hopper NVIDIA H100', isFallbackAdapter: false, f16: true, subgroups: true, subgroupMatrix, limits,
    adapterInfo: { vendor: 'nvidia', subgroupMinSize: 32, subgroupMaxSize: 32, subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 }] },
  });
const lavapipe = makeTarget({ adapterName: 'llvmpipe', isFallbackAdapter: true, f16: true, subgroups: true, subgroupMatrix: false, limits, adapterInfo: { vendor: 'mesa', subgroupMinSize: 8, subgroupMaxSize: 8 } });
const intel = makeTarget({ adapterName: 'intel xe', isFallbackAdapter: false, f16: true, subgroups: true, subgroupMatrix: false, limits, adapterInfo: { vendor: 'intel', subgroupMinSize: 8, subgroupMaxSize: 32 } });

// Specs only need shapes and dtypes: fake tensors on a null buffer (nothing runs).
const t = (shape: number[], dtype: DType = 'f32') => new GpuTensor({} as GPUBuffer, shape, dtype);
const lin = (m: number, k: number, n: number, act: DType = 'f32', w: DType = act) => linearSpec(t([m, k], act), t([n, k], w), undefined, t([m, n], act));

describe('GEMM variant selection', () => {
  it('CPU adapters always get matmul-regblock; GPUs get tiled, or subgroup for a few rows', () => {
    for (const s of [lin(16384, 96, 288), lin(8, 256, 2048), lin(1, 3, 1)]) {
      expect(GEMM_FAMILY.heuristic(s, lavapipe)).toBe('matmul-regblock');
    }
    expect(GEMM_FAMILY.heuristic(lin(16384, 96, 288), nvidia(false))).toBe('matmul-tiled');
    expect(GEMM_FAMILY.heuristic(lin(8, 256, 2048), nvidia(false))).toBe('matmul-subgroup');
    const sel = new KernelSelector(nvidia(true), { env: false });
    // The subgroup-matrix variant is never a default, even with f16 activations.
    expect(sel.pick(GEMM_FAMILY, lin(4096, 256, 256, 'f16')).variant.id).toBe('matmul-tiled');
  });

  it('tiled configs: shape-dependent default, adapter limits, malformed configs', () => {
    const g = nvidia(false);
    expect(tiledConfigs(lin(9, 256, 2048), g)[0]).toMatchObject({ TM: 16, TN: 64 });
    expect(tiledConfigs(lin(16384, 96, 32), g)[0]).toMatchObject({ TM: 64, TN: 32 });
    expect(tiledConfigs(lin(16384, 96, 384), g)[0]).toMatchObject({ TM: 128, TN: 64 });
    expect(tiledConfigs(lin(1024, 256, 256), g)[0]).toMatchObject({ TM: 64, TN: 64, WG: 256 });
    const tight = { ...g, limits: { ...g.limits, maxWorkgroupStorageBytes: 16384, maxInvocationsPerWorkgroup: 128 } };
    for (const c of tiledConfigs(lin(1024, 256, 256), tight)) expect(c.WG).toBeLessThanOrEqual(128);
    expect(tiledRows({ TM: 64, TN: 64, TK: 16, WG: 64 })).toMatch(/1\.\.8/);
    expect(() => tiledProgram(lin(8, 8, 8), { TM: 64, TN: 62, TK: 16, WG: 64 })).toThrow(/multiples of 4/);
    const p = tiledProgram(lin(65, 17, 63), { TM: 32, TN: 32, TK: 16, WG: 64 });
    expect(p.name).toBe('matmul-tiled-nk-a1b1-f32');
    expect(p.workgroups).toEqual([2, 3, 1]);
    expect(tiledProgram(lin(64, 64, 64, 'f32', 'f16'), { TM: 32, TN: 32, TK: 16, WG: 64 }).name).toBe('matmul-tiled-nk-a4b4-f32-wf16');
  });

  it('subgroup configs must hold for every subgroup size the adapter may use', () => {
    expect(subgroupConfigProblem({ RM: 8, WG: 64 }, lavapipe)).toBeUndefined();
    expect(subgroupConfigProblem({ RM: 8, WG: 64 }, { ...intel, subgroupMaxSize: 128 })).toMatch(/multiple of the maximum subgroup size 128/);
    expect(subgroupConfigProblem({ RM: 8, WG: 128 }, intel)).toBeUndefined();
    expect(subgroupConfigProblem({ RM: 8, WG: 128 }, { ...intel, subgroupMinSize: 4 })).toMatch(/does not divide the minimum subgroup size 4/);
    expect(subgroupConfigProblem({ RM: 4, WG: 128 }, { ...intel, subgroups: false })).toMatch(/no subgroups/);
  });

  it('mixed storage: f16 weights need shader-f16; unsupported dtypes are rejected by name', () => {
    const noF16 = { ...lavapipe, f16: false };
    for (const v of GEMM_FAMILY.variants) expect(v.supports(lin(8, 8, 8, 'f32', 'f16'), noF16)).toBe(false);
    expect(GEMM_FAMILY.variants[0].supports(lin(8, 8, 8, 'f32', 'f16'), lavapipe)).toBe(true);
    expect(() => lin(8, 8, 8, 'f32', 'i32')).toThrow(/unsupported weight dtype i32/);
    expect(() => linearSpec(t([8, 8]), t([8, 8]), t([8], 'f16'), t([8, 8]))).toThrow(/bias is f16 but a is f32/);
    expect(GEMM_FAMILY.bucket(lin(100, 64, 64, 'f32', 'f16'))).toBe('nk-f32-wf16-b1-m128-n64-k64');
  });

  it('packed weights: regblock, tiled and subgroup have the dequantizing seam, sgmat refuses them, none needs shader-f16', () => {
    // An int4-g32 [96, 64] weight: 96·64/8 payload words, then 96·64/32 scales.
    const packed = (m: number, act: DType = 'f32') =>
      validateGemm({ ...lin(m, 64, 96, act), b: t([768 + 192], 'u32'), bPacked: { format: 'int4', scaleOffset: 768, group: 32 } });
    const ids = (s: ReturnType<typeof packed>, g: GpuTarget) => GEMM_FAMILY.variants.filter((v) => v.supports(s, g)).map((v) => v.id);
    expect(ids(packed(64, 'f16'), nvidia(true))).toEqual(['matmul-regblock', 'matmul-tiled', 'matmul-subgroup']);
    expect(ids(packed(64), { ...lavapipe, f16: false })).toEqual(['matmul-regblock', 'matmul-tiled', 'matmul-subgroup']);
    expect(GEMM_FAMILY.heuristic(packed(4096), nvidia(false))).toBe('matmul-tiled');
    expect(GEMM_FAMILY.heuristic(packed(4), nvidia(false))).toBe('matmul-subgroup');
    expect(GEMM_FAMILY.bucket(packed(100))).toBe('nk-f32-wint4-b1-m128-n128-k64');
    const p = tiledProgram(packed(65), { TM: 32, TN: 32, TK: 16, WG: 64 });
    expect(p.name).toBe('matmul-tiled-nk-a4b4-f32-wint4');
    const wgsl = (p.source as () => string)();
    expect(wgsl).toContain('var<storage, read> wq: array<u32>');
    expect(wgsl).toContain('return w_at4(n * p.k + k);');
    expect(wgsl).not.toContain('enable f16;');
    expect(() => validateGemm({ ...lin(8, 64, 96), b: t([768 + 192], 'u32'), bPacked: { format: 'int4', scaleOffset: 768, group: 48 } })).toThrow(/invalid scale group 48/);
  });
});

describe('matmul-sgmat (subgroup matrices)', () => {
  it('generates WGSL for an adapter fragment shape, and only adapters exposing the feature support it', () => {
    const g = nvidia(true);
    const cfgs = sgmatConfigs(g);
    expect(cfgs.length).toBeGreaterThan(0);
    const cfg = cfgs[0];
    expect(cfg).toMatchObject({ SM: 16, SN: 16, SK: 16, SGMAX: 32 });
    expect(cfg.WG % 32).toBe(0);
    const spec = matmulSpec(t([2, 100, 72], 'f16'), t([2, 72, 90], 'f16'), t([2, 100, 90], 'f16'));
    const sgmat = GEMM_FAMILY.variants.find((v) => v.id === 'matmul-sgmat')!;
    expect(sgmat.supports(spec, g)).toBe(true);
    expect(sgmat.supports(matmulSpec(t([100, 72]), t([72, 90]), t([100, 90])), g)).toBe(false); // f32 activations
    expect(sgmat.supports(spec, nvidia(false))).toBe(false);
    const src = sgmatProgram(spec, cfg).source as () => string;
    const wgsl = src();
    // Directives first (WGSL requires them before any declaration), then the fragment types of the config.
    const firstDecl = wgsl.search(/^(alias|struct|const|var|fn|@)/m);
    for (const d of ['enable f16;', 'enable subgroups;', 'enable chromium_experimental_subgroup_matrix;', 'diagnostic(off, chromium.subgroup_matrix_uniformity);']) {
      const at = wgsl.indexOf(d);
      expect(at, d).toBeGreaterThanOrEqual(0);
      expect(at, d).toBeLessThan(firstDecl);
    }
    expect(wgsl).toContain('subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>>');
    expect(wgsl).toContain('subgroupMatrixLoad<subgroup_matrix_right<f16, SN, SK>>');
    expect(wgsl).toContain('subgroupMatrixMultiplyAccumulate(left, right, acc[j])');
    expect(wgsl).toMatch(/const SM: u32 = 16u;[\s\S]*const SGMAX: u32 = 32u;/);
    expect(wgsl).toContain('array<subgroup_matrix_result<f32, SN, SM>, MAXF>');
    expect(wgsl).toContain('@workgroup_size(WG)');
    expect(wgsl.split('workgroupBarrier()').length - 1).toBe(3);
  });

  it('is never chosen on this adapter, forced or not, unless the adapter exposes subgroup matrices', async () => {
    const gpu = await getTestGpu();
    const spec = linearSpec(t([64, 64], gpu.target.f16 ? 'f16' : 'f32'), t([64, 64], gpu.target.f16 ? 'f16' : 'f32'), undefined, t([64, 64], gpu.target.f16 ? 'f16' : 'f32'));
    const sel = new KernelSelector(gpu.target, { env: false, force: { matmul: 'matmul-sgmat' } });
    const gpuKind = new KernelSelector(gpu.target, { env: false, targetOverride: { kind: 'gpu' } });
    if (gpu.target.subgroupMatrix.length === 0) {
      expect(sel.pick(GEMM_FAMILY, spec).variant.id).not.toBe('matmul-sgmat');
      expect(gpuKind.pick(GEMM_FAMILY, spec).variant.id).not.toBe('matmul-sgmat');
    }
    expect(new KernelSelector(gpu.target, { env: false }).pick(GEMM_FAMILY, spec).variant.id).not.toBe('matmul-sgmat');
  });
});
