// Deterministic synthetic SAM 2 weights, "synthetic-formula v1" (shared/fixtures/SYNTHETIC_WEIGHTS.md):
// every state_dict entry is a function of its key and shape only:
//   seed = FNV-1a-32(key); x = fmix32(seed + i * 0x9E3779B1); v = 2 * x / 2^32 - 1;
//   value = float32(scale * v + offset), with (scale, offset) from the first matching rule.
// The golden fixtures were generated from these weights, so this must stay bit-exact.

import { parseSafetensors, serializeSafetensors, type SafetensorsFile } from '../io/safetensors.js';
import type { Sam2Config } from '../model/config.js';
import { stateDictSpec } from '../model/state-dict-spec.js';

export const SYNTHETIC_FORMULA = 'synthetic-formula v1';

type NdimCondition = 'any' | 'ndim==1' | 'ndim>=2';

interface SyntheticRule {
  row: string;
  /** Matched against the whole key. */
  regex: string;
  ndim: NdimCondition;
  /** A number, or a gain g meaning g * sqrt(3 / fan_in) with fan_in = prod(shape[1:]). */
  scale: number | { gain: number };
  offset: number;
}

/** The rule table of SYNTHETIC_WEIGHTS.md (first match wins). */
export const SYNTHETIC_RULES: readonly SyntheticRule[] = [
  { row: 'R1', regex: 'sam_mask_decoder\\.pred_obj_score_head\\.layers\\.2\\.bias', ndim: 'any', scale: 0.02, offset: 1.0 },
  { row: 'R2', regex: 'sam_mask_decoder\\.output_hypernetworks_mlps\\.\\d+\\.layers\\.2\\.weight', ndim: 'ndim>=2', scale: { gain: 8.0 }, offset: 0.0 },
  { row: 'R3', regex: 'memory_attention\\.layers\\.\\d+\\.cross_attn_image\\.out_proj\\.weight', ndim: 'ndim>=2', scale: { gain: 4.0 }, offset: 0.0 },
  { row: 'R3b', regex: 'memory_attention\\.layers\\.\\d+\\.cross_attn_image\\.(q|k)_proj\\.weight', ndim: 'ndim>=2', scale: { gain: 2.0 }, offset: 0.0 },
  { row: 'R4', regex: 'sam_prompt_encoder\\.pe_layer\\.positional_encoding_gaussian_matrix', ndim: 'any', scale: 1.0, offset: 0.0 },
  { row: 'R5', regex: 'maskmem_tpos_enc|no_mem_embed|no_mem_pos_enc|no_obj_ptr|no_obj_embed_spatial', ndim: 'any', scale: 0.5, offset: 0.0 },
  { row: 'R6', regex: 'image_encoder\\.trunk\\.pos_embed(_window)?', ndim: 'any', scale: 0.5, offset: 0.0 },
  { row: 'R7', regex: '.*(_token|_tokens|_embed|point_embeddings\\.\\d+)\\.weight', ndim: 'any', scale: 1.0, offset: 0.0 },
  { row: 'R8', regex: '.*\\.gamma', ndim: 'any', scale: 0.1, offset: 0.5 },
  { row: 'R9', regex: '.*\\.weight', ndim: 'ndim==1', scale: 0.1, offset: 1.0 },
  { row: 'R10', regex: '.*\\.bias', ndim: 'ndim==1', scale: 0.02, offset: 0.0 },
  { row: 'R11', regex: '.*\\.weight', ndim: 'ndim>=2', scale: { gain: 1.0 }, offset: 0.0 },
];

const COMPILED_RULES = SYNTHETIC_RULES.map((r) => ({ ...r, re: new RegExp(`^(?:${r.regex})$`) }));

/** FNV-1a 32-bit over the UTF-8 bytes of the key. */
export function fnv1a32(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** murmur3 fmix32 of (seed + i * golden ratio), all mod 2^32. */
export function syntheticBits(seed: number, index: number): number {
  let x = (seed + Math.imul(index, 0x9e3779b1)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

export interface ResolvedRule {
  row: string;
  scale: number;
  offset: number;
}

export function syntheticRule(key: string, shape: readonly number[]): ResolvedRule {
  const nd = shape.length;
  for (const r of COMPILED_RULES) {
    const ndimOk = r.ndim === 'any' || (r.ndim === 'ndim==1' && nd === 1) || (r.ndim === 'ndim>=2' && nd >= 2);
    if (!ndimOk || !r.re.test(key)) continue;
    let scale: number;
    if (typeof r.scale === 'number') scale = r.scale;
    else {
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      // One Math.sqrt of the float64 quotient, then one multiply (as the reference generator).
      scale = r.scale.gain * Math.sqrt(3 / fanIn);
    }
    return { row: r.row, scale, offset: r.offset };
  }
  throw new Error(`synthetic weights: no rule matches "${key}" (shape ${JSON.stringify(shape)})`);
}

/** Element `index` of the synthetic tensor (also defined past the tensor's end, for test vectors). */
export function syntheticValue(seed: number, index: number, scale: number, offset: number): number {
  const v = 2 * (syntheticBits(seed, index) / 4294967296) - 1;
  return Math.fround(scale * v + offset);
}

export function synthesizeTensor(key: string, shape: readonly number[]): Float32Array {
  const { scale, offset } = syntheticRule(key, shape);
  const seed = fnv1a32(key);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  // Float32Array assignment performs the single float32 rounding of the float64 expression.
  for (let i = 0; i < n; i++) {
    let x = (seed + Math.imul(i, 0x9e3779b1)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b) >>> 0;
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35) >>> 0;
    x ^= x >>> 16;
    out[i] = scale * (2 * ((x >>> 0) / 4294967296) - 1) + offset;
  }
  return out;
}

/** All state_dict entries of the model, in state_dict order. */
export function synthesizeWeights(config: Sam2Config): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const { key, shape } of stateDictSpec(config)) out.set(key, { shape, data: synthesizeTensor(key, shape) });
  return out;
}

/**
 * The synthetic weights of a config as a parsed F32 safetensors file, in state_dict order: what
 * tests and benchmarks load instead of a real checkpoint. `keep` limits it to the keys a caller
 * needs (large models stay cheap).
 */
export function syntheticWeightsFile(config: Sam2Config, keep: (key: string) => boolean = () => true): SafetensorsFile {
  const tensors = stateDictSpec(config)
    .filter(({ key }) => keep(key))
    .map(({ key, shape }) => ({ name: key, dtype: 'F32' as const, shape, data: synthesizeTensor(key, shape) }));
  return parseSafetensors(serializeSafetensors(tensors));
}
