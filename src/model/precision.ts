// Model precision, per component: the storage type of activations (f32 or f16; accumulation,
// LayerNorm and softmax statistics stay f32 either way) and the format of the weights (kept as
// such on the GPU and dequantized in registers by the GEMM / conv weight-load seam).
//
//   Sam2Model.load(gpu, bytes, { precision: { encoder: 'int4-g64', memattn: 'f16', activations: 'f16' } })
//   sam2-webgpu ... --precision encoder=int4-g64,memattn=f16,act=f16
//
// Components: `encoder` (Hiera trunk, FPN neck, conv_s0/s1), `memattn` (memory attention),
// `memenc` (memory encoder), `decoder` (prompt encoder, mask decoder, object-pointer head).
// Weight formats: `stored` (as the file holds them: f32, f16, bf16, int8 or int4), `f32`, `f16`,
// `bf16`, `int8` (per output row), `int4-g32|64|128` (per group of inputs), each integer format
// with an optional `-mse` suffix (MSE-searched clipping of every scale instead of absmax).
// Quantized formats apply to matrix weights (Linear / 1×1 conv, and dense conv filters) of at
// least `minQuantElements` values; int4 falls back to int8 for a matrix whose row is not a whole
// number of groups. Everything else (norms, biases, embeddings, tables, depthwise and transposed
// conv filters) is kept as floats of the activation type.
//
// f16 activations: a component converts its inputs to f16 on entry and returns f32
// (layers/dtype-boundary.ts). Inside, every kernel stores f16 (tests/kernels/f16-storage.cases.ts);
// kept in f32 and converted at the boundary instead: the preprocessed image (preprocess kernel),
// memories and pointers (memory bank), the prompt encoder and object-pointer head, the SAM-heads
// selection (the decisions kernels), and the memory encoder's mask-for-memory (computed from the
// f32 logits so a tiny positive logit stays positive).
import type { ScaleMethod } from '../weights/quant.js';
import { DEFAULT_MIN_QUANT_ELEMENTS } from '../weights/quant.js';

export const COMPONENTS = ['encoder', 'memattn', 'memenc', 'decoder'] as const;
export type Component = (typeof COMPONENTS)[number];

export type ActivationType = 'f32' | 'f16';

export const WEIGHT_PRECISIONS = [
  'stored', 'f32', 'f16', 'bf16',
  'int8', 'int8-mse', 'int4-g32', 'int4-g64', 'int4-g128', 'int4-g32-mse', 'int4-g64-mse', 'int4-g128-mse',
] as const;
export type WeightPrecision = (typeof WEIGHT_PRECISIONS)[number];

export interface ComponentPrecision {
  weights: WeightPrecision;
  activations: ActivationType;
}

/** What a caller may give: per component a weight precision or both parts; `all` / `activations` set every component. */
export interface PrecisionOptions {
  all?: WeightPrecision | Partial<ComponentPrecision>;
  encoder?: WeightPrecision | Partial<ComponentPrecision>;
  memattn?: WeightPrecision | Partial<ComponentPrecision>;
  memenc?: WeightPrecision | Partial<ComponentPrecision>;
  decoder?: WeightPrecision | Partial<ComponentPrecision>;
  /** Activation storage of every component not given its own. */
  activations?: ActivationType;
  /** Matrices smaller than this stay in float under int8/int4 (default 16384, as `convert --quant`). */
  minQuantElements?: number;
}

export interface ModelPrecision {
  components: Record<Component, ComponentPrecision>;
  minQuantElements: number;
}

export const F32_PRECISION: ComponentPrecision = { weights: 'stored', activations: 'f32' };

export class PrecisionError extends Error {
  override name = 'PrecisionError';
}

function checkWeights(v: string, where: string): WeightPrecision {
  if (!(WEIGHT_PRECISIONS as readonly string[]).includes(v)) {
    throw new PrecisionError(`${where}: unknown weight precision "${v}" (choose from ${WEIGHT_PRECISIONS.join(', ')})`);
  }
  return v as WeightPrecision;
}

function checkActivations(v: string, where: string): ActivationType {
  if (v !== 'f32' && v !== 'f16') throw new PrecisionError(`${where}: activations must be f32 or f16, got "${v}"`);
  return v;
}

/**
 * Parses `encoder=int4-g64,memattn=f16,act=f16`: `<component>=<weights>`, `all=<weights>`,
 * `act=<f32|f16>` (every component), `<component>.act=<f32|f16>`, `min=<elements>`; a bare
 * `<weights>` means `all=<weights>`.
 */
export function parsePrecision(text: string): PrecisionOptions {
  const out: PrecisionOptions = {};
  const set = (c: Component | 'all', part: Partial<ComponentPrecision>) => {
    const prev = out[c];
    const base = typeof prev === 'string' ? { weights: prev } : (prev ?? {});
    out[c] = { ...base, ...part };
  };
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? 'all' : item.slice(0, eq).trim();
    const value = eq < 0 ? item : item.slice(eq + 1).trim();
    const where = `precision "${item}"`;
    if (key === 'act' || key === 'activations') {
      out.activations = checkActivations(value, where);
    } else if (key === 'min') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new PrecisionError(`${where}: min must be a non-negative integer`);
      out.minQuantElements = n;
    } else if (key.endsWith('.act')) {
      const c = key.slice(0, -4);
      if (!(COMPONENTS as readonly string[]).includes(c) && c !== 'all') throw new PrecisionError(`${where}: unknown component "${c}" (${COMPONENTS.join(', ')}, all)`);
      set(c as Component, { activations: checkActivations(value, where) });
    } else if ((COMPONENTS as readonly string[]).includes(key) || key === 'all') {
      set(key as Component | 'all', { weights: checkWeights(value, where) });
    } else {
      throw new PrecisionError(`${where}: unknown component "${key}" (${COMPONENTS.join(', ')}, all, act, min)`);
    }
  }
  return out;
}

/** Resolves options (or their text form) into one precision per component. */
export function resolvePrecision(opts: PrecisionOptions | string | undefined): ModelPrecision {
  const o = typeof opts === 'string' ? parsePrecision(opts) : (opts ?? {});
  const part = (v: WeightPrecision | Partial<ComponentPrecision> | undefined, where: string): Partial<ComponentPrecision> => {
    if (v === undefined) return {};
    if (typeof v === 'string') return { weights: checkWeights(v, where) };
    return {
      ...(v.weights !== undefined ? { weights: checkWeights(v.weights, where) } : {}),
      ...(v.activations !== undefined ? { activations: checkActivations(v.activations, where) } : {}),
    };
  };
  const all = { ...F32_PRECISION, ...(o.activations ? { activations: checkActivations(o.activations, 'precision') } : {}), ...part(o.all, 'precision.all') };
  const components = Object.fromEntries(COMPONENTS.map((c) => [c, { ...all, ...part(o[c], `precision.${c}`) }])) as Record<Component, ComponentPrecision>;
  const min = o.minQuantElements ?? DEFAULT_MIN_QUANT_ELEMENTS;
  if (!Number.isInteger(min) || min < 0) throw new PrecisionError(`precision: minQuantElements must be a non-negative integer, got ${min}`);
  return { components, minQuantElements: min };
}

/** Whether any component stores activations in f16 (needs the shader-f16 feature). */
export function usesF16Activations(p: ModelPrecision): boolean {
  return COMPONENTS.some((c) => p.components[c].activations === 'f16');
}

/** The same precision with every f16 activation turned back to f32 (the shader-f16 fallback). */
export function withF32Activations(p: ModelPrecision): ModelPrecision {
  const components = Object.fromEntries(COMPONENTS.map((c) => [c, { ...p.components[c], activations: 'f32' as const }])) as Record<Component, ComponentPrecision>;
  return { ...p, components };
}

/** A quantized weight precision split into scheme, int4 group and scale method. */
export function quantOf(w: WeightPrecision): { scheme: 'int8' | 'int4'; groupSize: number | null; method: ScaleMethod } | null {
  const m = /^int(8|4)(?:-g(\d+))?(-mse)?$/.exec(w);
  if (!m) return null;
  return { scheme: m[1] === '8' ? 'int8' : 'int4', groupSize: m[2] ? Number(m[2]) : null, method: m[3] ? 'mse' : 'absmax' };
}

/** Short label of a resolved precision, e.g. `encoder=int4-g64,act=f16` (components equal to the default omitted). */
export function precisionLabel(p: ModelPrecision): string {
  const parts: string[] = [];
  const ws = COMPONENTS.map((c) => p.components[c].weights);
  const as = COMPONENTS.map((c) => p.components[c].activations);
  if (ws.every((w) => w === ws[0])) {
    if (ws[0] !== 'stored') parts.push(ws[0]);
  } else {
    COMPONENTS.forEach((c, i) => ws[i] !== 'stored' && parts.push(`${c}=${ws[i]}`));
  }
  if (as.every((a) => a === as[0])) {
    if (as[0] !== 'f32') parts.push(`act=${as[0]}`);
  } else {
    COMPONENTS.forEach((c, i) => as[i] !== 'f32' && parts.push(`${c}.act=${as[i]}`));
  }
  if (p.minQuantElements !== DEFAULT_MIN_QUANT_ELEMENTS) parts.push(`min=${p.minQuantElements}`);
  return parts.join(',') || 'stored';
}
