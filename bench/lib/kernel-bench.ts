// Times kernel bench cases once per kernel variant, side by side. A case's launcher goes through
// the kernel selector; one untimed run with the launch observer finds the op families it uses
// and their specs. The case is timed as the engine runs it, then once per other variant of each
// of its families that supports all of the case's launches of that family (forced, with its
// default config per spec). Cases outside any family run once ('default').
import type { KernelConfig, OpFamily } from '../../src/kernels/registry.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { BenchCase } from './bench-case.js';
import { measure, type Measurement, type MeasureOptions } from './measure.js';
import { percentOfPeak } from './peaks.js';

export interface VariantRun {
  /** The forced variant id; for the engine's own choice the chosen id(s), or 'default' outside any op family. */
  variant: string;
  /** The op family forced. */
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
  /** Only these variant ids; undefined = all that support the case. */
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
    // First what the engine runs here (nothing forced), then each other variant of each family the
    // case launches, forced for that family alone (if it supports all of the case's launches of it).
    const picks = ops.map((op) => [...new Set(seen.filter((s) => s.op === op).map((s) => s.chosen))].join('+'));
    const todo: VariantRun[] = [{ variant: ops.length ? picks.join(',') : 'default', op: ops.length === 1 ? ops[0] : undefined, chosen: true, cfg: seen[0]?.cfg }];
    if (!opts.chosenOnly) {
      for (const op of ops) {
        const specs = seen.filter((s) => s.op === op);
        for (const v of specs[0].family.variants) {
          if (specs.every((s) => s.chosen === v.id)) continue;
          if (opts.variants && !opts.variants.includes(v.id)) continue;
          if (!specs.every((s) => v.supports(s.spec, t))) continue;
          todo.push({ variant: v.id, op, chosen: false, cfg: v.configs(specs[0].spec, t)[0] });
        }
      }
    }
    if (opts.variants) todo.splice(0, todo.length, ...todo.filter((r) => !r.chosen || opts.variants!.some((id) => r.variant.split(/[,+]/).includes(id))));
    for (const r of todo) {
      const previous = r.op ? gpu.kernels.forced(r.op) : undefined;
      // The engine's choice runs unforced: exactly what the engine does (tuned configs included).
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
