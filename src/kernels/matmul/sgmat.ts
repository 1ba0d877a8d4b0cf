// Variant `matmul-sgmat`: subgroup-matrix GEMM (sgmat.wgsl.ts), f16 in, f32 accumulate, using a
// fragment shape the adapter lists in target.subgroupMatrix. Only adapters exposing
// `chromium-experimental-subgroup-matrix` can run it (none of the software adapters do), so it is
// never a default: it runs when forced or when the autotuner, which checks every candidate's output
// against the default variant before timing it, measured it fastest on the live adapter.
import type { GpuTarget, SubgroupMatrixConfig } from '../../runtime/target.js';
import type { KernelProgram } from '../program.js';
import { cfgKey, type KernelConfig, type KernelVariant } from '../registry.js';
import { gemmBindings, gemmBytes, gemmDtypeTag, gemmFlops, gemmGrid, gemmUniforms, type GemmSpec } from './gemm-spec.js';
import { gemmVec4Aligned } from './gemm-loads.wgsl.js';
import { sgmatSource } from './sgmat.wgsl.js';

/** The adapter's f16 × f16 → f32 fragment shapes. */
export function sgmatShapes(t: GpuTarget): SubgroupMatrixConfig[] {
  if (!t.f16 || !t.subgroups) return [];
  return t.subgroupMatrix.filter((c) => c.componentType === 'f16' && c.resultComponentType === 'f32');
}

export function sgmatWorkgroupBytes(cfg: KernelConfig): number {
  return 2 * cfg.TM * cfg.TK + 2 * cfg.TK * cfg.TN + 4 * cfg.TM * cfg.TN;
}

/** Why `cfg` cannot run on `t` (undefined when it can). */
export function sgmatConfigProblem(cfg: KernelConfig, t: GpuTarget): string | undefined {
  const { TM, TN, TK, WG, SM, SN, SK, SGMAX } = cfg;
  if (!sgmatShapes(t).some((c) => c.M === SM && c.N === SN && c.K === SK)) return `no f16→f32 subgroup-matrix config ${SM}×${SN}×${SK} on this adapter`;
  if (SGMAX !== t.subgroupMaxSize || WG % SGMAX) return `WG=${WG} must be a multiple of the maximum subgroup size ${t.subgroupMaxSize}`;
  if (TM % SM || TN % SN || TK % SK || TK % 4 || TN % 4) return 'TM, TN, TK must be multiples of the fragment shape (and TN, TK of 4)';
  const frags = (TM / SM) * (TN / SN);
  // Subgroup counts WG/size are powers of two up to WG/min: each must divide the fragments.
  if (frags % (WG / t.subgroupMinSize)) return `${frags} fragments do not split over ${WG / t.subgroupMinSize} subgroups`;
  if (WG > t.limits.maxInvocationsPerWorkgroup || WG > t.limits.maxWorkgroupSizeX) return `WG=${WG} exceeds the workgroup limits`;
  if (sgmatWorkgroupBytes(cfg) > t.limits.maxWorkgroupStorageBytes) return `${sgmatWorkgroupBytes(cfg)} bytes of workgroup memory exceed the limit`;
  return undefined;
}

/** Candidate configs: 64×64 and 128×64 tiles per fragment shape, WG = 4 subgroups of the largest size. */
export function sgmatConfigs(t: GpuTarget): KernelConfig[] {
  const out: KernelConfig[] = [];
  for (const c of sgmatShapes(t)) {
    const TK = Math.max(32, c.K);
    for (const [TM, TN, subgroups] of [[64, 64, 4], [128, 64, 4], [64, 64, 2], [32, 64, 2]]) {
      const cfg = { TM, TN, TK, WG: subgroups * t.subgroupMaxSize, SM: c.M, SN: c.N, SK: c.K, SGMAX: t.subgroupMaxSize };
      if (!sgmatConfigProblem(cfg, t)) out.push(cfg);
    }
  }
  return out;
}

export function sgmatProgram(s: GemmSpec, cfg: KernelConfig): KernelProgram {
  const vec = gemmVec4Aligned(s.layout, s.k, s.n);
  const act = s.a.dtype;
  const weight = s.b.dtype;
  return {
    name: `matmul-sgmat-${s.layout}-${vec.a ? 'a4' : 'a1'}${vec.b ? 'b4' : 'b1'}-${gemmDtypeTag(s)}`,
    variant: cfgKey(cfg),
    source: () => sgmatSource(s.layout, act, weight, vec.a, vec.b, cfg),
    bindings: gemmBindings(s),
    uniforms: gemmUniforms(s, cfg.TM),
    workgroups: gemmGrid(s, cfg.TM, cfg.TN),
    flops: gemmFlops(s),
    bytes: gemmBytes(s),
  };
}

export const sgmatVariant: KernelVariant<GemmSpec> = {
  id: 'matmul-sgmat',
  // f16 activations: the fragments are f16, so f32 activations would silently lose precision.
  // No packed-weight seam (untestable on the software adapters): packed B falls back.
  supports: (s, t) => !s.normA && s.a.dtype === 'f16' && !s.bPacked && sgmatConfigs(t).length > 0,
  configs: (_s, t) => sgmatConfigs(t),
  build: (s, cfg) => [sgmatProgram(s, cfg)],
};
