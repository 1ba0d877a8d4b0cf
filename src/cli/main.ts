// `sam2-webgpu <verb> ...`: a table of verbs, each a module exporting `run(argv)` that is only
// imported when its verb is used (so `inspect` never loads GPU code, and so on).
// To add a verb: one entry in VERBS.

export interface VerbModule {
  /** Returns the process exit status. Usage errors are thrown as errors with a `usage` field. */
  run(argv: string[]): Promise<number>;
}

interface Verb {
  summary: string;
  load: () => Promise<VerbModule>;
}

export const VERBS: Record<string, Verb> = {
  convert: { summary: 'PyTorch checkpoint (.pt) -> safetensors (optionally f16/bf16, int8/int4)', load: () => import('../../weights-tools/convert.js') },
  synth: { summary: 'write deterministic synthetic weights for a preset', load: () => import('../../weights-tools/synth.js') },
  inspect: { summary: 'list tensors, config and integrity of a weights file', load: () => import('../../weights-tools/inspect.js') },
  segment: { summary: 'segment a volume from a box or clicks on one slice, propagated through the volume', load: () => import('./segment.js') },
  eval: { summary: 'evaluate against ground-truth labels (key-slice prompts, both-way propagation) and write a report', load: () => import('./eval.js') },
  'quant-eval': { summary: 'compare f32 with reduced precisions (size, speed, agreement, accuracy) on one volume', load: () => import('./quant-eval.js') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(VERBS).map((v) => v.length));
  return [
    'usage: sam2-webgpu <verb> [arguments]   (sam2-webgpu <verb> --help for details)',
    '',
    ...Object.entries(VERBS).map(([name, v]) => `  ${name.padEnd(width)}  ${v.summary}`),
  ].join('\n');
}

/** Runs a verb and returns the exit status; errors are printed, not thrown. */
export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(usage());
    return verb === undefined ? 2 : 0;
  }
  const entry = Object.prototype.hasOwnProperty.call(VERBS, verb) ? VERBS[verb] : undefined;
  if (!entry) {
    console.error(`sam2-webgpu: unknown verb "${verb}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await entry.load()).run(rest);
  } catch (e) {
    const err = e as Error & { usage?: string };
    if (err.usage !== undefined) {
      console.error(`sam2-webgpu ${verb}: ${err.message}\n\n${err.usage}`);
      return 2;
    }
    console.error(`sam2-webgpu ${verb}: ${process.env.SAM2_DEBUG ? err.stack : err.message}`);
    return 1;
  }
}
