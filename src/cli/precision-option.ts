// The --precision / --precision-fallback options shared by the segment, eval and quant-eval verbs.
import { COMPONENTS, parsePrecision, WEIGHT_PRECISIONS } from '../model/precision.js';
import { UsageError } from '../../weights-tools/cli-args.js';

export const PRECISION_HELP = `  --precision P          per-component precision, e.g. encoder=int4-g64,memattn=f16,act=f16:
                         <component>=<weights> (components ${COMPONENTS.join(', ')}, all),
                         act=f16 or <component>.act=f16 (activations; f32 accumulation),
                         min=N (matrices below N values stay float; default 16384).
                         Weights: ${WEIGHT_PRECISIONS.join(', ')} (default: as stored)
  --precision-fallback   without shader-f16, run f16 activations in f32 (with a warning)`;

export const PRECISION_OPTIONS = {
  precision: { type: 'string' },
  'precision-fallback': { type: 'boolean' },
} as const;

/** The checked --precision text (or undefined) and the fallback flag. */
export function precisionOption(values: Record<string, unknown>, usage: string): { precision?: string; fallback: boolean } {
  const raw = values.precision;
  if (raw !== undefined) {
    if (typeof raw !== 'string') throw new UsageError('--precision needs a value', usage);
    try {
      parsePrecision(raw);
    } catch (e) {
      throw new UsageError(`--precision: ${(e as Error).message}`, usage);
    }
  }
  return { precision: raw as string | undefined, fallback: values['precision-fallback'] === true };
}
