// Variant `conv-igemm`: tiled implicit-GEMM convolution (igemm.wgsl.ts) for dense convs of any
// kernel, stride and padding: Hiera's 7×7 s4 patch embed, the memory encoder's 3×3 s2 mask
// downsampler, the prompt encoder's 2×2 s2 mask convs. The GPU default for groups = 1; depthwise
// convs stay on conv-direct. Packed weights (f16/bf16/int8/int4) go through the dequantizing seam w_at.
import type { GpuTarget } from '../../runtime/target.js';
import { uniforms } from '../../runtime/uniforms.js';
import { MAX_WORKGROUPS_PER_DIM, type KernelProgram } from '../program.js';
import { cfgKey, type KernelConfig, type KernelVariant } from '../registry.js';
import { weightSeam } from '../packed-weight/packed-weight.wgsl.js';
import { convBytes, convFlops, convPacked, convWeightBinding, type ConvSpec } from './conv-spec.js';
import { igemmSource } from './igemm.wgsl.js';

/** TM output pixels × TN output channels per workgroup, K step TK, WG lanes, RM = TM·TN/(4·WG) pixels per lane. */
const WIDE: KernelConfig = { TM: 64, TN: 64, TK: 16, WG: 256 }; // RM 4
const MID: KernelConfig = { TM: 64, TN: 32, TK: 16, WG: 128 }; // RM 4: 96 channels = 3 tiles
const FEW: KernelConfig = { TM: 128, TN: 16, TK: 16, WG: 128 }; // RM 4: 4..16 output channels
const DEEP: KernelConfig = { TM: 128, TN: 32, TK: 32, WG: 128 }; // RM 8
export const IGEMM_CONFIGS: readonly KernelConfig[] = [WIDE, MID, FEW, DEEP];

export function igemmRows(cfg: KernelConfig): number | string {
  const { TM, TN, TK, WG } = cfg;
  if (![TM, TN, TK, WG].every((v) => Number.isInteger(v) && v > 0)) return 'TM, TN, TK and WG must be positive integers';
  if (TN % 4 || TK % 4) return 'TN and TK must be multiples of 4';
  const rm = (TM * TN) / (4 * WG);
  if (!Number.isInteger(rm) || rm < 1 || rm > 8 || TM % rm) return `TM·TN/(4·WG) = ${rm} pixels per lane must be an integer in 1..8 dividing TM`;
  return rm;
}

export function igemmWorkgroupBytes(cfg: KernelConfig): number {
  return 16 * (cfg.TM * (cfg.TK / 4 + 1) + (cfg.TK * cfg.TN) / 4) + 12 * cfg.TM;
}

export function igemmConfigs(s: ConvSpec, t: GpuTarget): KernelConfig[] {
  const c = s.g.cout;
  const first = c <= 16 ? FEW : c % 64 === 0 ? WIDE : MID;
  return [first, ...IGEMM_CONFIGS.filter((x) => x !== first)].filter(
    (x) => typeof igemmRows(x) === 'number' && x.WG <= t.limits.maxInvocationsPerWorkgroup && x.WG <= t.limits.maxWorkgroupSizeX && igemmWorkgroupBytes(x) <= t.limits.maxWorkgroupStorageBytes,
  );
}

export function igemmProgram(s: ConvSpec, cfg: KernelConfig): KernelProgram {
  const rm = igemmRows(cfg);
  if (typeof rm === 'string') throw new Error(`conv2d: conv-igemm config ${cfgKey(cfg)}: ${rm}`);
  const { g, x } = s;
  const packed = convPacked(s);
  const m = g.batch * g.outH * g.outW;
  const k = g.kh * g.kw * g.cin;
  const tiles = Math.ceil(m / cfg.TM);
  const z = Math.ceil(tiles / MAX_WORKGROUPS_PER_DIM);
  return {
    name: `conv2d-igemm-${x.dtype}${packed ? `-w${packed.format}` : ''}`,
    variant: cfgKey(cfg),
    source: () => (packed ? igemmSource(x.dtype, cfg, rm, weightSeam(packed.format, 1)) : igemmSource(x.dtype, cfg, rm)),
    bindings: [x, convWeightBinding(s), s.bias, s.out],
    uniforms: uniforms([
      ['u32', g.inH], ['u32', g.inW], ['u32', g.cin], ['u32', g.outH],
      ['u32', g.outW], ['u32', g.cout], ['u32', g.kh], ['u32', g.kw],
      ['u32', g.strideY], ['u32', g.strideX], ['u32', g.padY], ['u32', g.padX],
      ['u32', m], ['u32', k], ['u32', s.act === 'gelu' ? 1 : 0], ['u32', 0],
      ['u32', packed?.scaleOffset ?? 0], ['u32', packed?.group ?? 0], ['u32', 0], ['u32', 0],
    ]),
    workgroups: [Math.ceil(g.cout / cfg.TN), Math.ceil(tiles / z), z],
    flops: convFlops(s),
    bytes: convBytes(s),
  };
}

export const igemmVariant: KernelVariant<ConvSpec> = {
  id: 'conv-igemm',
  supports: (s, t) => s.g.groups === 1 && (s.x.dtype === 'f32' || t.f16) && igemmConfigs(s, t).length > 0,
  configs: (s, t) => igemmConfigs(s, t),
  build: (s, cfg) => [igemmProgram(s, cfg)],
};
