// Variant `matmul-subgroup`: A fragments shared by subgroupShuffle instead of workgroup memory
// (subgroup.wgsl.ts). Needs the `subgroups` feature; correct for any subgroup size the adapter
// reports (read at run time).
import type { GpuTarget } from '../../runtime/target.js';
import type { KernelProgram } from '../program.js';
import { cfgKey, type KernelConfig, type KernelVariant } from '../registry.js';
import { gemmBindings, gemmBytes, gemmDtypesSupported, gemmDtypeTag, gemmFlops, gemmGrid, gemmUniforms, type GemmSpec } from './gemm-spec.js';
import { gemmVec4Aligned } from './gemm-loads.wgsl.js';
import { subgroupSource } from './subgroup.wgsl.js';

/** RM rows per workgroup (each lane RM × 4 outputs), WG lanes. */
export interface SubgroupConfig extends KernelConfig {
  RM: number;
  WG: number;
}

export const SUBGROUP_CONFIGS: readonly SubgroupConfig[] = [
  { RM: 4, WG: 128 },
  { RM: 8, WG: 128 },
  { RM: 4, WG: 64 },
  { RM: 4, WG: 256 },
  { RM: 8, WG: 64 },
];

/** Why a config cannot run on `t`, or undefined when it can. */
export function subgroupConfigProblem(cfg: KernelConfig, t: GpuTarget): string | undefined {
  const { RM, WG } = cfg;
  if (!t.subgroups) return 'the adapter has no subgroups';
  if (!(Number.isInteger(RM) && RM >= 1 && RM <= 8)) return `RM=${RM} must be an integer in 1..8`;
  // Every subgroup size in [min, max] is a power of two, so RM must divide the smallest.
  if (t.subgroupMinSize % RM) return `RM=${RM} does not divide the minimum subgroup size ${t.subgroupMinSize}`;
  if (!(Number.isInteger(WG) && WG > 0) || WG % t.subgroupMaxSize) return `WG=${WG} is not a multiple of the maximum subgroup size ${t.subgroupMaxSize} (subgroups must be full)`;
  if (WG > t.limits.maxInvocationsPerWorkgroup || WG > t.limits.maxWorkgroupSizeX) return `WG=${WG} exceeds the adapter's workgroup limits`;
  return undefined;
}

export function subgroupConfigs(s: Pick<GemmSpec, 'm' | 'n'>, t: GpuTarget): SubgroupConfig[] {
  const ok = SUBGROUP_CONFIGS.filter((c) => !subgroupConfigProblem(c, t));
  // 8-row blocks reuse each B load twice as often (a 4-row block suffices for M ≤ 4); narrow
  // workgroups leave fewer lanes idle when N is small.
  const rm = s.m <= 4 ? 4 : 8;
  const wg = s.n <= 256 ? 64 : 128;
  const score = (c: SubgroupConfig) => (c.RM === rm ? 0 : 2) + (c.WG === wg ? 0 : 1);
  return [...ok].sort((x, y) => score(x) - score(y));
}

export function subgroupProgram(s: GemmSpec, cfg: KernelConfig, t?: GpuTarget): KernelProgram {
  const problem = t && subgroupConfigProblem(cfg, t);
  if (problem) throw new Error(`${s.op}: matmul-subgroup config ${cfgKey(cfg)}: ${problem}`);
  const vec = gemmVec4Aligned(s.layout, s.k, s.n);
  const act = s.a.dtype;
  // Packed weights (bPacked) replace the `b` binding and load_b4; TB is then unused.
  const weight = s.bPacked ? 'f32' : s.b.dtype;
  return {
    name: `matmul-subgroup-${s.layout}-${vec.a ? 'a4' : 'a1'}${vec.b ? 'b4' : 'b1'}-${gemmDtypeTag(s)}`,
    variant: cfgKey(cfg),
    source: () => subgroupSource(s.layout, act, weight, vec.a, vec.b, cfg, s.bPacked?.format),
    bindings: gemmBindings(s),
    uniforms: gemmUniforms(s, cfg.RM),
    workgroups: gemmGrid(s, cfg.RM, 4 * cfg.WG),
    flops: gemmFlops(s),
    bytes: gemmBytes(s),
  };
}

export const subgroupVariant: KernelVariant<GemmSpec> = {
  id: 'matmul-subgroup',
  supports: (s, t) => !s.normA && t.subgroups && gemmDtypesSupported(s, t.f16) && subgroupConfigs(s, t).length > 0,
  configs: (s, t) => subgroupConfigs(s, t),
  build: (s, cfg) => [subgroupProgram(s, cfg)],
};
