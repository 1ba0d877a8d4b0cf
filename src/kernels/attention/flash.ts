// Variants `attention-flash` (FA2-style, flash.wgsl.ts) and `attention-flash-splitkv` (the same
// kernel over key chunks writing partials, then a reduce), for GPUs. Config:
//   BR  query rows per workgroup        BC  keys per tile          WG  invocations
//   DK  head-dim chunk staged for Q·Kᵀ  KC  keys staged per P·V step
//   S16 1 = stage f32 inputs as f16 in workgroup memory (f16 inputs are always staged as f16)
//   KCH (split-KV) keys per split, a multiple of BC; a uniform, not part of the pipeline key
import type { GpuTarget } from '../../runtime/target.js';
import type { GpuTensor } from '../../runtime/tensor.js';
import { check, dispatch1d, MAX_WORKGROUPS_PER_DIM, type KernelProgram } from '../program.js';
import { cfgKey, type KernelConfig, type KernelVariant, type Scratch } from '../registry.js';
import { attentionUniforms, extraIo, inputIo } from './attention-io.js';
import { addressMode, attentionFlops, elemBytes, headDimTier, kvAccess, type AttentionSpec } from './attention-spec.js';
import type { BindingDecl } from './attention-io.wgsl.js';
import { flashSource, splitKvReduceSource, type StageType } from './flash.wgsl.js';

const SN = 4;
const OC = 16;

/** The compile-time part of a config (KCH is a uniform). */
function compileCfg(cfg: KernelConfig): KernelConfig {
  const { BR, BC, WG, DK, KC } = cfg;
  return { BR, BC, WG, DK, KC };
}

function stageType(s: AttentionSpec, cfg: KernelConfig): StageType {
  return s.dtype === 'f16' || cfg.S16 ? 'f16' : 'f32';
}

/** Why `cfg` cannot run (thread grids must tile BR × BC and BR × VCAP), or undefined. */
export function flashConfigProblem(cfg: KernelConfig, vTier: number): string | undefined {
  const { BR, BC, WG, DK, KC } = cfg;
  for (const [k, v] of Object.entries({ BR, BC, WG, DK, KC })) {
    if (!Number.isInteger(v) || v < 1) return `${k}=${v} must be a positive integer`;
  }
  if (BC % SN) return `BC=${BC} must be a multiple of ${SN}`;
  if (WG % (BC / SN)) return `WG=${WG} must be a multiple of BC/${SN}=${BC / SN}`;
  if (BR % (WG / (BC / SN))) return `BR=${BR} must be a multiple of WG/(BC/${SN})=${WG / (BC / SN)}`;
  if (WG % OC || BR % (WG / OC)) return `WG=${WG} must be a multiple of ${OC} and BR=${BR} of WG/${OC}`;
  if (BR > WG) return `BR=${BR} must not exceed WG=${WG} (one invocation per row updates the softmax state)`;
  if (DK % 4) return `DK=${DK} must be a multiple of 4`;
  if (BC % KC) return `KC=${KC} must divide BC=${BC}`;
  if (vTier % OC) return `v head-dim tier ${vTier} must be a multiple of ${OC}`;
  return undefined;
}

/** Workgroup memory of a config: staged q/k or v (ST) + scores and row state (f32). */
export function flashSmemBytes(cfg: KernelConfig, vTier: number, stage: StageType): number {
  const { BR, BC, DK, KC } = cfg;
  const qs = DK + 1;
  const staged = Math.max(BR * qs + BC * qs, KC * vTier);
  return Math.ceil((staged * (stage === 'f16' ? 2 : 4)) / 4) * 4 + 4 * (BR * BC + 3 * BR);
}

function fits(s: AttentionSpec, cfg: KernelConfig, t: GpuTarget): boolean {
  const tier = headDimTier(s.vHeadDim);
  if (flashConfigProblem(cfg, tier)) return false;
  if (stageType(s, cfg) === 'f16' && !t.f16) return false;
  return cfg.WG <= t.limits.maxInvocationsPerWorkgroup && cfg.WG <= t.limits.maxWorkgroupSizeX && flashSmemBytes(cfg, tier, stageType(s, cfg)) <= t.limits.maxWorkgroupStorageBytes;
}

/** Candidate configs, best first on GPUs; those that do not fit the target are dropped. */
function candidateConfigs(s: AttentionSpec, t: GpuTarget): KernelConfig[] {
  const base: KernelConfig[] = [
    { BR: 32, BC: 32, WG: 128, DK: 32, KC: 8 },
    { BR: 64, BC: 32, WG: 256, DK: 16, KC: 8 },
    { BR: 16, BC: 32, WG: 64, DK: 32, KC: 8 },
    { BR: 32, BC: 64, WG: 256, DK: 16, KC: 16 },
  ];
  const all = [...base];
  // f16 staging of f32 inputs halves workgroup memory and its traffic; tolerance in attention.cases.ts.
  if (s.dtype === 'f32' && t.f16) all.push(...base.slice(0, 2).map((c) => ({ ...c, S16: 1 })));
  return all.filter((c) => fits(s, c, t));
}

interface SplitIo {
  nSplit: number;
  keyChunk: number;
  opart: GpuTensor;
  ml: GpuTensor;
}

/**
 * One launch of the flash kernel: the whole key range into `out`, or split-KV partials. Both use
 * one pipeline (the epilogue is chosen by a uniform), so the kernel binds out, opart and ml
 * either way; a direct launch binds 1-element scratch tensors as the unused partials.
 */
export function flashProgram(s: AttentionSpec, cfg: KernelConfig, scratch: Scratch, split?: SplitIo): KernelProgram {
  const mode = addressMode(s);
  const access = kvAccess(s);
  const tier = headDimTier(s.vHeadDim);
  const stage = stageType(s, cfg);
  // One name for both variants: it is part of the pipeline key, and the pipeline is shared.
  const name = `attention-flash-${s.dtype}`;
  const problem = flashConfigProblem(cfg, tier);
  check(!problem, name, `bad config ${JSON.stringify(cfg)}: ${problem}`);
  const nSplit = split?.nSplit ?? 1;
  const qTiles = Math.ceil(s.nq / cfg.BR);
  const z = s.batch * nSplit;
  check(
    qTiles <= MAX_WORKGROUPS_PER_DIM && s.heads <= MAX_WORKGROUPS_PER_DIM && z <= MAX_WORKGROUPS_PER_DIM,
    name,
    `grid [${qTiles}, ${s.heads}, ${z}] exceeds ${MAX_WORKGROUPS_PER_DIM} workgroups per dimension`,
  );
  const input = inputIo(s);
  const extra = extraIo(s);
  const outputs: BindingDecl[] = [
    { name: 'out', type: 'array<T>', access: 'read_write' },
    { name: 'opart', type: 'array<f32>', access: 'read_write' },
    { name: 'ml', type: 'array<f32>', access: 'read_write' },
  ];
  const partials = split ?? { opart: scratch([1], 'f32', 'attention unused partial O'), ml: scratch([1], 'f32', 'attention unused partial m, l') };
  const decls = [...input.decls, ...outputs, ...extra.decls];
  const cc = compileCfg(cfg);
  const c = s.heads * s.headDim;
  const cv = s.heads * s.vHeadDim;
  return {
    name,
    variant: `${mode}-vhd${tier}-${access}-st${stage}-${cfgKey(cc)}`,
    source: () => flashSource(s.dtype, stage, tier, access, mode, decls, cc),
    bindings: [...input.tensors, s.out.tensor, partials.opart, partials.ml, ...extra.tensors],
    uniforms: attentionUniforms(s, nSplit, split?.keyChunk),
    workgroups: [qTiles, s.heads, z],
    flops: attentionFlops(s),
    // q once per key split; k and v once per query tile; out (or the partials) once.
    bytes: elemBytes(s) * s.batch * (s.nq * c * nSplit + s.nk * (c + cv) * qTiles + s.nq * cv) + (split ? 4 * nSplit * s.batch * s.heads * s.nq * (s.vHeadDim + 2) : 0),
  };
}

/** Pass 2 of split-KV: merges the partials of every split into `out`. */
export function splitKvReduceProgram(s: AttentionSpec, split: SplitIo): KernelProgram {
  const name = `attention-splitkv-reduce-${s.dtype}`;
  check(!s.window, name, 'split-KV does not take windows');
  const decls: BindingDecl[] = [
    { name: 'opart', type: 'array<f32>', access: 'read' },
    { name: 'ml', type: 'array<f32>', access: 'read' },
    { name: 'out', type: 'array<T>', access: 'read_write' },
  ];
  const total = s.batch * s.heads * s.nq * s.vHeadDim;
  const wg = 256;
  return {
    name,
    source: () => splitKvReduceSource(s.dtype, decls),
    constants: { WG: wg },
    bindings: [split.opart, split.ml, s.out.tensor],
    uniforms: attentionUniforms(s, split.nSplit, split.keyChunk),
    workgroups: dispatch1d(total, wg),
    flops: 4 * total * split.nSplit,
    bytes: 4 * split.nSplit * (total + 2 * s.batch * s.heads * s.nq) + elemBytes(s) * total,
  };
}

/**
 * Keys per split: enough splits that batch·heads·query tiles·splits reaches about `target`
 * workgroups (a big GPU's SMs × 2), each split at least 4 tiles, rounded to whole tiles.
 */
export function splitKeyChunk(s: AttentionSpec, cfg: KernelConfig, target = 256): number {
  const tiles = s.batch * s.heads * Math.ceil(s.nq / cfg.BR);
  const wanted = Math.max(1, Math.ceil(target / tiles));
  const chunk = Math.max(4 * cfg.BC, Math.ceil(s.nk / wanted));
  return Math.ceil(chunk / cfg.BC) * cfg.BC;
}

export const flashVariant: KernelVariant<AttentionSpec> = {
  id: 'attention-flash',
  supports: (s, t) => (s.dtype === 'f32' || t.f16) && candidateConfigs(s, t).length > 0,
  configs: (s, t) => candidateConfigs(s, t),
  build: (s, cfg, scratch) => [flashProgram(s, cfg, scratch)],
};

export const flashSplitKvVariant: KernelVariant<AttentionSpec> = {
  id: 'attention-flash-splitkv',
  supports: (s, t) => !s.window && (s.dtype === 'f32' || t.f16) && candidateConfigs(s, t).length > 0,
  configs: (s, t) => candidateConfigs(s, t).map((c) => ({ ...c, KCH: splitKeyChunk(s, c) })),
  build: (s, cfg, scratch: Scratch) => {
    const keyChunk = cfg.KCH ?? splitKeyChunk(s, cfg);
    check(Number.isInteger(keyChunk) && keyChunk >= 1 && keyChunk % cfg.BC === 0, 'attention-flash-splitkv', `KCH=${keyChunk} must be a positive multiple of BC=${cfg.BC}`);
    const nSplit = Math.ceil(s.nk / keyChunk);
    const rows = nSplit * s.batch * s.heads * s.nq;
    const split: SplitIo = {
      nSplit,
      keyChunk,
      opart: scratch([rows, s.vHeadDim], 'f32', 'attention splitkv partial O'),
      ml: scratch([rows, 2], 'f32', 'attention splitkv partial m, l'),
    };
    return [flashProgram(s, cfg, scratch, split), splitKvReduceProgram(s, split)];
  },
};
