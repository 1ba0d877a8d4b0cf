// Tunes one recorded launch of any op family: every variant that supports the spec on the live
// adapter, with every config it lists (or its first with `quick`), is first checked against the
// family's CPU-class default on the same random inputs (so a variant that cannot be verified
// elsewhere, like the subgroup-matrix GEMM, can only win here if it computes the right thing),
// then timed with GPU timestamps (median of repeated launches).
import { cfgKey, type KernelConfig, type OpFamily, type VariantPick } from '../../src/kernels/registry.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { measure } from '../lib/measure.js';
import { materializeSpec } from './materialize.js';

export interface CandidateResult {
  id: string;
  cfg: KernelConfig;
  /** Median ms per launch, or undefined when it failed. */
  ms?: number;
  /** rel_l2 of its outputs against the reference variant's. */
  relL2?: number;
  error?: string;
}

export interface LaunchTuning {
  op: string;
  bucket: string;
  reference: string;
  /** What the heuristic picks on this adapter (the engine's choice without a cache). */
  heuristic: VariantPick;
  candidates: CandidateResult[];
  winner?: CandidateResult;
}

export interface TuneOptions {
  quick: boolean;
  /** Timed work per candidate (ms). */
  targetMs: number;
  minIters: number;
  maxIters: number;
  /** Largest rel_l2 against the reference for an f32 / f16-output launch. */
  tolF32: number;
  tolF16: number;
}

/** Worst rel_l2 over the tensors (outputs differ; inputs are equal), skipping non-finite references. */
function worstRelL2(got: Array<Float32Array | undefined>, ref: Array<Float32Array | undefined>): number {
  let worst = 0;
  got.forEach((g, i) => {
    const r = ref[i];
    if (!g || !r) return;
    let num = 0;
    let den = 0;
    for (let j = 0; j < r.length; j++) {
      if (!Number.isFinite(r[j])) continue;
      const d = g[j] - r[j];
      num += Number.isFinite(d) ? d * d : Infinity;
      den += r[j] * r[j];
    }
    worst = Math.max(worst, den > 0 ? Math.sqrt(num / den) : Math.sqrt(num));
  });
  return worst;
}

async function runForced<S>(gpu: Gpu, family: OpFamily<S>, spec: S, pick: VariantPick, body: () => Promise<void>): Promise<void> {
  const previous = gpu.kernels.forced(family.op);
  gpu.kernels.setForced(family.op, pick);
  try {
    await body();
  } finally {
    gpu.kernels.setForced(family.op, previous);
  }
}

export async function tuneLaunch<S>(gpu: Gpu, family: OpFamily<S>, recorded: S, opts: TuneOptions): Promise<LaunchTuning> {
  const t = gpu.kernels.realTarget;
  const m = materializeSpec(gpu, recorded);
  const spec = m.spec;
  const bucket = family.bucket(spec);
  const refId = family.heuristic(spec, { ...t, kind: 'cpu' });
  const hId = family.heuristic(spec, t);
  const hVariant = family.variants.find((v) => v.id === hId)!;
  const result: LaunchTuning = { op: family.op, bucket, reference: refId, heuristic: { id: hId, cfg: hVariant.configs(spec, t)[0] }, candidates: [] };
  try {
    // Reference outputs.
    let ref: Array<Float32Array | undefined> = [];
    await runForced(gpu, family, spec, { id: refId }, async () => {
      m.reset();
      gpu.runOp(family, spec);
      await gpu.sync();
      ref = await m.readFloats();
    });
    const f16 = m.tensors.some((x) => x.dtype === 'f16');
    for (const v of family.variants) {
      if (!v.supports(spec, t)) continue;
      const cfgs = opts.quick ? v.configs(spec, t).slice(0, 1) : v.configs(spec, t);
      for (const cfg of cfgs) {
        const c: CandidateResult = { id: v.id, cfg };
        result.candidates.push(c);
        try {
          await runForced(gpu, family, spec, { id: v.id, cfg }, async () => {
            m.reset();
            gpu.runOp(family, spec);
            await gpu.sync();
            c.relL2 = worstRelL2(await m.readFloats(), ref);
            if (!(c.relL2 <= (f16 ? opts.tolF16 : opts.tolF32))) throw new Error(`wrong result: rel_l2 ${c.relL2.toExponential(2)} against ${refId}`);
            const r = await measure(gpu, { launch: () => gpu.runOp(family, spec), release: () => {} }, opts);
            c.ms = r.medianMs;
          });
        } catch (e) {
          c.error = (e as Error).message.split('\n')[0];
        }
      }
    }
  } finally {
    m.release();
  }
  for (const c of result.candidates) if (c.ms !== undefined && (!result.winner || c.ms < result.winner.ms!)) result.winner = c;
  return result;
}

export function candidateLabel(c: { id: string; cfg?: KernelConfig }): string {
  const k = c.cfg ? cfgKey(c.cfg) : '';
  return k ? `${c.id}:${k}` : c.id;
}
