// `sam2-webgpu synth --arch NAME`: deterministic synthetic weights ("synthetic-formula v1", the
// weights of the golden fixtures) for any preset, written as safetensors with the config.

import { makeConfig, type Sam2Config } from '../src/model/config.js';
import { stateDictSpec } from '../src/model/state-dict-spec.js';
import { SYNTHETIC_FORMULA, synthesizeTensor } from '../src/weights/synthetic.js';
import { choiceOption, formatBytes, formatCount, intOption, parseCli, UsageError } from './cli-args.js';
import { FLOAT_DTYPES, writeSam2Weights, type FloatDtype, type SourceTensor, type WeightsWriteResult } from './weights-writer.js';

export const USAGE = `usage: sam2-webgpu synth --arch NAME [--image-size N] [--dtype f32|f16|bf16] [--out FILE]

Writes synthetic SAM 2 weights (${SYNTHETIC_FORMULA}, see shared/fixtures/SYNTHETIC_WEIGHTS.md).
  --arch NAME        sam2[.1]_hiera_{t,s,b+,l} or micro
  --image-size N     model input size stored in the config (default 1024; micro 256)
  --dtype            float dtype of the output (default f32)
  --out FILE         output path (default <arch>-synthetic.safetensors)`;

/** Every state_dict entry of the model, generated lazily when the writer reaches it. */
export function syntheticTensors(config: Sam2Config): SourceTensor[] {
  return stateDictSpec(config).map(({ key, shape }) => ({ key, shape, read: async () => synthesizeTensor(key, shape) }));
}

/**
 * Writes deterministic synthetic weights (real shapes, meaningless values) for a configuration,
 * e.g. `writeSyntheticWeights(makeConfig('micro'), 'micro.safetensors')` for tests.
 */
export async function writeSyntheticWeights(config: Sam2Config, outPath: string, dtype: FloatDtype = 'f32'): Promise<WeightsWriteResult> {
  return writeSam2Weights(outPath, config, syntheticTensors(config), { dtype, metadata: { formula: SYNTHETIC_FORMULA } });
}

export async function run(argv: string[]): Promise<number> {
  const { values, help } = parseCli(argv, {
    arch: { type: 'string' },
    'image-size': { type: 'string' },
    dtype: { type: 'string' },
    out: { type: 'string' },
  }, USAGE, { min: 0, max: 0 });
  if (help) {
    console.log(USAGE);
    return 0;
  }
  if (typeof values.arch !== 'string') throw new UsageError('--arch is required', USAGE);
  const config = makeConfig(values.arch, { imageSize: intOption(values, 'image-size', USAGE) });
  const dtype = choiceOption(values, 'dtype', FLOAT_DTYPES, USAGE) ?? 'f32';
  const out = (values.out as string | undefined) ?? `${config.arch}-synthetic.safetensors`;
  const r = await writeSyntheticWeights(config, out, dtype);
  console.log(`${out}: synthetic ${config.arch} (SAM ${config.version}, ${config.imageSize} px), ${r.tensors} tensors, ${formatCount(r.values)} values, ${dtype}, ${formatBytes(r.bytes)}`);
  return 0;
}
