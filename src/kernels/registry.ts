// Kernel variants and how one is chosen per launch.
//
// An op family (matmul, attention, conv, ...) lists variants `{ id, supports, configs, build }`.
// A variant's tile and workgroup sizes are a config object: `build` emits it into the WGSL as
// `const` declarations (cfgConsts) and uses the same object for its grid, and cfgKey(cfg) goes into
// the program's `variant`, so the config is one source of truth and part of the pipeline key.
//
// Selection, per launch (KernelSelector.pick):
//   1. a forced variant (SAM2_KERNELS="matmul=matmul-tiled,attention=attention-flash" in Node, or
//      GpuOptions.kernels.force), where it supports the spec;
//   2. the tuned cache (winner per adapter, op and shape bucket, written by `npm run bench:tune`);
//   3. the family's heuristic (CPU adapters keep the register-blocked kernels).
import type { GpuTarget } from '../runtime/target.js';
import type { DType, GpuTensor } from '../runtime/tensor.js';
import type { KernelProgram } from './program.js';

/** Tile/workgroup sizes and other compile-time choices of one variant, e.g. { TM: 64, TN: 64, TK: 16, WG: 256 }. */
export type KernelConfig = Readonly<Record<string, number>>;

/** Pooled scratch tensors a multi-pass variant needs (e.g. split-KV partials); released after recording. */
export type Scratch = (shape: readonly number[], dtype: DType, label: string) => GpuTensor;

export interface KernelVariant<S> {
  /** `<op>-<strategy>[-<elem>]`, e.g. `matmul-tiled`, `attention-flash`. */
  id: string;
  /** Whether this variant computes `spec` correctly on `target` (dtype, alignment, features, limits). */
  supports(spec: S, target: GpuTarget): boolean;
  /** Configs worth timing for `spec` on `target`; the first is the default. */
  configs(spec: S, target: GpuTarget): KernelConfig[];
  /** The launches (usually one) that compute `spec` with `cfg`. */
  build(spec: S, cfg: KernelConfig, scratch: Scratch): KernelProgram[];
}

export interface OpFamily<S> {
  op: string;
  variants: ReadonlyArray<KernelVariant<S>>;
  /** Shape bucket for the tuned cache: specs in one bucket share a winner. */
  bucket(spec: S): string;
  /** Default choice when nothing is forced or tuned; must name a variant that supports `spec`. */
  heuristic(spec: S, target: GpuTarget): string;
}

export interface VariantPick {
  id: string;
  cfg?: KernelConfig;
}

export interface TunedEntry extends VariantPick {
  /** Median ms of the winner when it was tuned (informative). */
  ms?: number;
}

/** Winners of `npm run bench:tune`, per adapter, op and shape bucket (JSON in Node, OPFS in browsers). */
export interface TuningCache {
  get(adapter: string, op: string, bucket: string): TunedEntry | undefined;
}

export interface KernelSelectorOptions {
  /** op → variant id (or id + config) to use wherever it supports the spec. */
  force?: Record<string, string | VariantPick>;
  /** Throw instead of falling back when a forced variant does not support a spec. */
  strict?: boolean;
  tuned?: TuningCache;
  /** Read SAM2_KERNELS / SAM2_KERNEL_TARGET from the environment (Node). Default true. */
  env?: boolean;
  /**
   * Choose as if the adapter were different (e.g. `{ kind: 'gpu' }` runs the GPU-class heuristics
   * on lavapipe, so parity suites can exercise the GPU tier). Env: SAM2_KERNEL_TARGET=gpu|cpu.
   * `supports()` still sees the real adapter's features; the tuned cache is not used.
   */
  targetOverride?: Partial<Pick<GpuTarget, 'kind' | 'vendor'>>;
}

export interface Choice<S> {
  variant: KernelVariant<S>;
  cfg: KernelConfig;
  source: 'forced' | 'tuned' | 'heuristic';
}

/**
 * Sees every launch the selector builds (family, validated spec, choice): the autotuner records the
 * model's real launch specs with it, benchmarks find the families a case uses, and tests check
 * which variants ran. Specs hold GpuTensors that may be released later: keep shapes, not contents.
 */
export type LaunchObserver = (family: OpFamily<any>, spec: unknown, choice: Choice<any>) => void;

/** `matmul=matmul-tiled,attention=attention-flash` or with a config `matmul=matmul-tiled:TM=64:TN=64`. */
export function parseForceList(text: string): Record<string, VariantPick> {
  const out: Record<string, VariantPick> = {};
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`SAM2_KERNELS: "${item}" is not op=variant`);
    const op = item.slice(0, eq).trim();
    const [id, ...kv] = item.slice(eq + 1).split(':');
    const cfg: Record<string, number> = {};
    for (const p of kv) {
      const [k, v] = p.split('=');
      if (!k || v === undefined || !Number.isFinite(Number(v))) throw new Error(`SAM2_KERNELS: bad config "${p}" in "${item}"`);
      cfg[k] = Number(v);
    }
    out[op] = kv.length ? { id: id.trim(), cfg } : { id: id.trim() };
  }
  return out;
}

function envVar(name: string): string | undefined {
  return typeof process !== 'undefined' ? process.env?.[name] : undefined;
}

function envForce(): Record<string, VariantPick> {
  const env = envVar('SAM2_KERNELS');
  return env ? parseForceList(env) : {};
}

function envTarget(): Partial<Pick<GpuTarget, 'kind'>> {
  const k = envVar('SAM2_KERNEL_TARGET');
  if (!k) return {};
  if (k !== 'gpu' && k !== 'cpu') throw new Error(`SAM2_KERNEL_TARGET must be gpu or cpu, got "${k}"`);
  return { kind: k };
}

export function cfgKey(cfg: KernelConfig): string {
  return Object.keys(cfg)
    .sort()
    .map((k) => `${k}${cfg[k]}`)
    .join('-');
}

/** `const NAME: u32 = Vu;` for every config entry (all configs are unsigned integers). */
export function cfgConsts(cfg: KernelConfig): string {
  return Object.entries(cfg)
    .map(([k, v]) => {
      if (!Number.isInteger(v) || v < 0) throw new Error(`kernel config ${k}=${v} is not an unsigned integer`);
      return `const ${k}: u32 = ${v}u;`;
    })
    .join('\n');
}

export class KernelSelector {
  private readonly force: Record<string, VariantPick>;
  /** Launches per variant id since creation (tests assert a forced variant really ran). */
  readonly usage = new Map<string, number>();
  /** Forced picks that did not support a spec and fell back (op → count). */
  readonly fallbacks = new Map<string, number>();
  tuned: TuningCache | undefined;
  /** The adapter as the heuristics see it (the real one unless overridden). */
  target: GpuTarget;
  private readonly observers = new Set<LaunchObserver>();
  private overridden: boolean;

  constructor(
    readonly realTarget: GpuTarget,
    readonly opts: KernelSelectorOptions = {},
  ) {
    const override = { ...(opts.env === false ? {} : envTarget()), ...opts.targetOverride };
    this.target = { ...realTarget, ...override };
    this.overridden = Object.keys(override).length > 0;
    const force: Record<string, VariantPick> = opts.env === false ? {} : envForce();
    for (const [op, p] of Object.entries(opts.force ?? {})) force[op] = typeof p === 'string' ? { id: p } : p;
    this.force = force;
    this.tuned = opts.tuned;
  }

  /** The forced pick of an op, if any. */
  forced(op: string): VariantPick | undefined {
    return this.force[op];
  }

  /** Heuristics choose as if the adapter were of this kind (tests of the GPU tier on lavapipe). */
  setTargetOverride(o: Partial<Pick<GpuTarget, 'kind' | 'vendor'>> | undefined): void {
    this.target = { ...this.realTarget, ...o };
    this.overridden = !!o && Object.keys(o).length > 0;
  }

  /** Sets or clears (undefined) a forced variant, e.g. in tests or the autotuner. */
  setForced(op: string, pick: string | VariantPick | undefined): void {
    if (pick === undefined) delete this.force[op];
    else this.force[op] = typeof pick === 'string' ? { id: pick } : pick;
  }

  pick<S>(family: OpFamily<S>, spec: S): Choice<S> {
    const t = this.target;
    const byId = (id: string): KernelVariant<S> => {
      const v = family.variants.find((x) => x.id === id);
      if (!v) throw new Error(`${family.op}: unknown kernel variant "${id}" (known: ${family.variants.map((x) => x.id).join(', ')})`);
      return v;
    };
    const f = this.force[family.op];
    if (f) {
      const v = byId(f.id);
      // A forced config may name only some keys (TM=128): the rest come from the default config.
      if (v.supports(spec, t)) return { variant: v, cfg: { ...v.configs(spec, t)[0], ...f.cfg }, source: 'forced' };
      if (this.opts.strict) throw new Error(`${family.op}: forced variant ${f.id} does not support this launch (${family.bucket(spec)})`);
      this.fallbacks.set(family.op, (this.fallbacks.get(family.op) ?? 0) + 1);
    }
    // Winners were timed on the real adapter: a target override (GPU tier on lavapipe) ignores them.
    const tuned = this.overridden ? undefined : this.tuned?.get(t.adapterName, family.op, family.bucket(spec));
    if (tuned) {
      const v = family.variants.find((x) => x.id === tuned.id);
      if (v && v.supports(spec, t)) {
        // Only configs the variant still lists for this spec (a cache from an older version may hold stale ones).
        const cfgs = v.configs(spec, t);
        const cfg = tuned.cfg ? cfgs.find((c) => cfgKey(c) === cfgKey(tuned.cfg!)) : cfgs[0];
        if (cfg) return { variant: v, cfg, source: 'tuned' };
      }
    }
    const v = byId(family.heuristic(spec, t));
    if (!v.supports(spec, t)) throw new Error(`${family.op}: heuristic chose ${v.id}, which does not support this launch (${family.bucket(spec)})`);
    return { variant: v, cfg: v.configs(spec, t)[0], source: 'heuristic' };
  }

  /** Calls `fn` for every launch built from now on; returns the function that stops it. */
  observe(fn: LaunchObserver): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** Picks and builds; counts the launch under the chosen variant. */
  build<S>(family: OpFamily<S>, spec: S, scratch: Scratch): KernelProgram[] {
    const c = this.pick(family, spec);
    this.usage.set(c.variant.id, (this.usage.get(c.variant.id) ?? 0) + 1);
    for (const fn of this.observers) fn(family, spec, c);
    return c.variant.build(spec, c.cfg, scratch);
  }
}

/** log2 bucket of a size ("≤64" style edges), for shape buckets. */
export function sizeBucket(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}
