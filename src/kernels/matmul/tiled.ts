// Variant `matmul-tiled`: workgroup-memory tiles of A and B, 64–256 lanes, each lane an RM × 4
// register micro-tile (tiled.wgsl.ts). The GPU-class default; on CPU adapters barriers and
// workgroup memory are slow, so the heuristic keeps `matmul-regblock` there.
import type { GpuTarget } from '../../runtime/target.js';
import type { KernelProgram } from '../program.js';
import { cfgKey, type KernelConfig, type KernelVariant } from '../registry.js';
import { gemmBindings, gemmBytes, gemmDtypesSupported, gemmDtypeTag, gemmFlops, gemmGrid, gemmUniforms, type GemmSpec } from './gemm-spec.js';
import { gemmVec4Aligned } from './gemm-loads.wgsl.js';
import { tiledSource } from './tiled.wgsl.js';

/** Output tile TM × TN, K step TK, WG lanes; each lane holds RM = TM·TN/(4·WG) rows × 4 columns. */
export interface TiledConfig extends KernelConfig {
  TM: number;
  TN: number;
  TK: number;
  WG: number;
}

// The tuner's candidates. The heuristic reorders them per shape (tiledConfigs).
const BIG: TiledConfig = { TM: 64, TN: 64, TK: 16, WG: 256 }; // RM 4
const TALL: TiledConfig = { TM: 128, TN: 64, TK: 16, WG: 256 }; // RM 8
const DEEP: TiledConfig = { TM: 64, TN: 64, TK: 32, WG: 128 }; // RM 8
const MID: TiledConfig = { TM: 32, TN: 64, TK: 32, WG: 128 }; // RM 4
const NARROW_M: TiledConfig = { TM: 16, TN: 64, TK: 32, WG: 64 }; // RM 4: decoder tokens (M ≤ 16)
const NARROW_N: TiledConfig = { TM: 64, TN: 32, TK: 32, WG: 128 }; // RM 4: few outputs (N ≤ 32)
const SMALL: TiledConfig = { TM: 32, TN: 32, TK: 16, WG: 64 }; // RM 4
export const TILED_CONFIGS: readonly TiledConfig[] = [BIG, TALL, DEEP, MID, NARROW_M, NARROW_N, SMALL];

/** Rows per lane, or a reason the config is malformed. */
export function tiledRows(cfg: KernelConfig): number | string {
  const { TM, TN, TK, WG } = cfg;
  if (![TM, TN, TK, WG].every((v) => Number.isInteger(v) && v > 0)) return 'TM, TN, TK and WG must be positive integers';
  if (TN % 4 || TK % 4) return 'TN and TK must be multiples of 4';
  const rm = (TM * TN) / (4 * WG);
  if (!Number.isInteger(rm) || rm < 1 || rm > 8 || TM % rm) return `TM·TN/(4·WG) = ${rm} rows per lane must be an integer in 1..8 dividing TM`;
  return rm;
}

export function tiledWorkgroupBytes(cfg: KernelConfig): number {
  return 16 * (cfg.TM * (cfg.TK / 4 + 1) + (cfg.TK * cfg.TN) / 4);
}

function fits(cfg: KernelConfig, t: GpuTarget): boolean {
  return typeof tiledRows(cfg) === 'number' && cfg.WG <= t.limits.maxInvocationsPerWorkgroup && cfg.WG <= t.limits.maxWorkgroupSizeX && tiledWorkgroupBytes(cfg) <= t.limits.maxWorkgroupStorageBytes;
}

/** The candidates that fit the adapter, the shape's best guess first. */
export function tiledConfigs(s: Pick<GemmSpec, 'batch' | 'm' | 'n' | 'k'>, t: GpuTarget): TiledConfig[] {
  const rows = s.m;
  let first: TiledConfig;
  if (rows <= 16) first = NARROW_M;
  else if (s.n <= 32) first = NARROW_N;
  else if (rows <= 64) first = MID;
  // Enough 128-row tiles to fill a big GPU (about two waves of 132 SMs) before trading occupancy for reuse.
  else if (s.batch * Math.ceil(rows / 128) * Math.ceil(s.n / 64) >= 256) first = TALL;
  else first = BIG;
  return [first, ...TILED_CONFIGS.filter((c) => c !== first)].filter((c) => fits(c, t));
}

export function tiledProgram(s: GemmSpec, cfg: KernelConfig): KernelProgram {
  const rm = tiledRows(cfg);
  if (typeof rm === 'string') throw new Error(`${s.op}: matmul-tiled config ${cfgKey(cfg)}: ${rm}`);
  const vec = gemmVec4Aligned(s.layout, s.k, s.n);
  const act = s.a.dtype;
  // Packed weights (bPacked) replace the `b` binding and load_b4; TB is then unused.
  const weight = s.bPacked ? 'f32' : s.b.dtype;
  return {
    name: `matmul-tiled-${s.layout}-${vec.a ? 'a4' : 'a1'}${vec.b ? 'b4' : 'b1'}-${gemmDtypeTag(s)}`,
    variant: cfgKey(cfg),
    source: () => tiledSource(s.layout, act, weight, vec.a, vec.b, cfg, rm, s.bPacked?.format),
    bindings: gemmBindings(s),
    uniforms: gemmUniforms(s, cfg.TM),
    workgroups: gemmGrid(s, cfg.TM, cfg.TN),
    flops: gemmFlops(s),
    bytes: gemmBytes(s),
  };
}

export const tiledVariant: KernelVariant<GemmSpec> = {
  id: 'matmul-tiled',
  supports: (s, t) => !s.normA && gemmDtypesSupported(s, t.f16) && tiledConfigs(s, t).length > 0,
  configs: (s, t) => tiledConfigs(s, t),
  build: (s, cfg) => [tiledProgram(s, cfg)],
};
