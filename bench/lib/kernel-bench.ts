// Times kernel bench cases once per kernel variant, side by side. A case's launcher goes through
// the kernel selector; one untimed run with the launch observer finds the op families it uses
// and their specs, then every variant that supports all of them is forced in turn (with its
// default config for each spec) and measured. Cases outside any family run once, as they are.
import type { KernelConfig, OpFamily } from '../../src/kernels/registry.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { BenchCase } from './bench-case.js';
import { measure, type Measurement, type MeasureOptions } from './measure.js';
import { percentOfPeak } from './peaks.js';

export interface VariantRun {
  /** The forced variant id, or 'default' for a case outside any op family. */
  variant: string;
  /** The op family forced (undefined for 'default'). */
  op?: string;
  /** Whether this is what the engine runs here without forcing (heuristic or tuned). */
  chosen: boolean;
  /** Config of the first launch (informative; each launch uses its spec's default config). */
  cfg?: KernelConfig;
  m?: Measurement;
  gflops?: number;
  gbps?: number;
  /** % of the adapter's stated peak (FP32, or the matrix-unit FP16 peak for subgroup-matrix kernels). */
  peakPct?: number;
  error?: string;
}

export interface CaseVariants {
  name: string;
  imageSize: number;
  runs: VariantRun[];
}

export interface KernelBenchOptions extends MeasureOptions {
  /** Only the variant the engine picks (the old single-row benchmark). */
  chosenOnly?: boolean;
  /** Only these variant ids (plus nothing else); undefined = all that support the case. */
  variants?: string[];
}

export async function benchCaseVariants(gpu: Gpu, c: BenchCase, opts: KernelBenchOptions): Promise<CaseVariants> {
  const out: CaseVariants = { name: c.name, imageSize: c.imageSize, runs: [] };
  const inst = c.setup(gpu);
  try {
    // Discover the families and specs of one launch (and what the selector picks for them).
    const seen: Array<{ op: string; family: OpFamily<unknown>; spec: unknown; chosen: string; cfg: KernelConfig }> = [];
    const stop = gpu.kernels.observe((family, spec, choice) => seen.push({ op: family.op, family, spec, chosen: choice.variant.id, cfg: choice.cfg }));
    try {
      inst.launch();
      await gpu.sync();
    } finally {
      stop();
    }
    const ops = [...new Set(seen.map((s) => s.op))];
    const t = gpu.kernels.realTarget;
    const todo: Array<Omit<VariantRun, 'chosen'> & { chosen: boolean }> = [];
    if (ops.length !== 1) {
      // No family (or several: the case is then timed as the engine runs it).
      todo.push({ variant: 'default', chosen: true });
    } else {
      const op = ops[0];
      const specs = seen.filter((s) => s.op === op);
      const family = specs[0].family;
      const chosen = specs[0].chosen;
      for (const v of family.variants) {
        if (opts.chosenOnly && v.id !== chosen) continue;
        if (opts.variants && !opts.variants.includes(v.id)) continue;
        if (!specs.every((s) => v.supports(s.spec, t))) continue;
        todo.push({ variant: v.id, op, chosen: v.id === chosen, cfg: v.id === chosen ? specs[0].cfg : v.configs(specs[0].spec, t)[0] });
      }
    }
    for (const r of todo) {
      const previous = r.op ? gpu.kernels.forced(r.op) : undefined;
      // The chosen variant runs unforced: exactly what the engine does (tuned config included).
      if (r.op && !r.chosen) gpu.kernels.setForced(r.op, { id: r.variant });
      try {
        const m = await measure(gpu, inst, opts);
        const gflops = m.flops !== undefined ? m.flops / (m.medianMs * 1e6) : undefined;
        out.runs.push({
          ...r,
          m,
          gflops,
          gbps: m.bytes !== undefined ? m.bytes / (m.medianMs * 1e6) : undefined,
          peakPct: percentOfPeak(gflops, gpu.adapterName, r.variant.includes('sgmat')),
        });
      } catch (e) {
        out.runs.push({ ...r, error: (e as Error).message.split('\n')[0] });
      } finally {
        if (r.op && !r.chosen) gpu.kernels.setForced(r.op, previous);
      }
    }
  } finally {
    inst.release();
    gpu.pool.trim();
  }
  return out;
}
