// `sam2-webgpu convert in.pt out.safetensors`: an official (or fine-tuned, e.g. MedSAM2) SAM 2 /
// SAM 2.1 PyTorch checkpoint to safetensors, keys kept verbatim, config in the metadata.
// The checkpoint is read lazily (central directory, pickle, then one storage at a time), so a
// 900 MB checkpoint converts in bounded memory. Nothing in the pickle is executed.

import { basename, resolve } from 'node:path';
import { FileSource } from '../src/io/node-files.js';
import { toFloat32, typedView } from '../src/io/safetensors.js';
import type { Sam2Config } from '../src/model/config.js';
import { stateDictSpec } from '../src/model/state-dict-spec.js';
import { checkGroupSize, DEFAULT_INT4_GROUP_SIZE, DEFAULT_MIN_QUANT_ELEMENTS, type QuantScheme } from '../src/weights/quant.js';
import { UsageError, choiceOption, formatBytes, formatCount, intOption, parseCli } from './cli-args.js';
import { resolveConfig } from './detect-arch.js';
import { CheckpointError, openTorchCheckpoint, readTensorBytes } from './torch-checkpoint.js';
import { FLOAT_DTYPES, writeSam2Weights, type FloatDtype, type SourceTensor, type WeightsWriteResult } from './weights-writer.js';

export const USAGE = `usage: sam2-webgpu convert <in.pt> <out.safetensors> [options]

Converts a SAM 2 / SAM 2.1 PyTorch checkpoint ({"model": state_dict} or a bare state_dict).
  --dtype f32|f16|bf16     float dtype of the output (default f32)
  --quant int8|int4        weight-only quantization of Linear / 1x1-conv weights (QUANT_LAYOUT.md)
  --group-size 32|64|128   int4 group size along the input dimension (default ${DEFAULT_INT4_GROUP_SIZE})
  --min-elements N         quantize only weights with at least N values (default ${DEFAULT_MIN_QUANT_ELEMENTS})
  --image-size N           model input size stored in the config (default 1024; MedSAM2: 512)
  --arch NAME              skip detection: sam2[.1]_hiera_{t,s,b+,l}, micro`;

/** Options of `convertCheckpoint` (the `convert` verb's flags). */
export interface ConvertOptions {
  /** Float dtype of the output (default f32). */
  dtype?: FloatDtype;
  /** Weight-only quantization of Linear / 1×1-conv weights (see QUANT_LAYOUT.md). */
  quant?: QuantScheme;
  /** int4 group size along the input dimension (32, 64 or 128; default 64). */
  groupSize?: number;
  /** Quantize only weights with at least this many values. */
  minElements?: number;
  /** Model input size stored in the config (default 1024; MedSAM2: 512). */
  imageSize?: number;
  /** Skip detection and use this architecture (e.g. `sam2.1_hiera_t`). */
  arch?: string;
}

/** What `convertCheckpoint` wrote. */
export interface ConvertResult extends WeightsWriteResult {
  /** The configuration written into the file's metadata. */
  config: Sam2Config;
}

const FLOAT_SOURCES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Converts a SAM 2 / SAM 2.1 PyTorch checkpoint (`torch.save` zip, read without executing its
 * pickle) to a safetensors weights file with the config in its metadata; checks every key and shape.
 */
export async function convertCheckpoint(inPath: string, outPath: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  if (resolve(inPath) === resolve(outPath)) throw new Error('convert: input and output are the same file');
  if (options.groupSize !== undefined) {
    if (options.quant !== 'int4') throw new Error('convert: --group-size only applies to --quant int4');
    checkGroupSize(options.groupSize);
  }
  const source = await FileSource.open(inPath);
  try {
    const ckpt = await openTorchCheckpoint(source);
    const shapes = new Map([...ckpt.stateDict].map(([k, ref]) => [k, ref.shape]));
    const config = resolveConfig(shapes, { arch: options.arch, imageSize: options.imageSize });
    for (const [key, ref] of ckpt.stateDict) {
      if (!FLOAT_SOURCES.has(ref.storage.dtype)) throw new CheckpointError(`checkpoint: tensor "${key}" has dtype ${ref.storage.dtype}, expected a float tensor`);
    }
    // Canonical (state_dict) order; the writer groups by element size for alignment.
    const tensors: SourceTensor[] = stateDictSpec(config).map(({ key, shape }) => {
      const ref = ckpt.stateDict.get(key)!;
      return {
        key,
        shape,
        read: async () => {
          const bytes = await readTensorBytes(ckpt, key, ref);
          return new Float32Array(toFloat32(ref.storage.dtype, typedView(ref.storage.dtype, bytes)));
        },
      };
    });
    const quant = options.quant
      ? { scheme: options.quant, groupSize: options.groupSize ?? DEFAULT_INT4_GROUP_SIZE, minElements: options.minElements ?? DEFAULT_MIN_QUANT_ELEMENTS }
      : undefined;
    const result = await writeSam2Weights(outPath, config, tensors, {
      dtype: options.dtype ?? 'f32',
      quant,
      metadata: { source: basename(inPath), converted_by: 'sam2-webgpu convert' },
    });
    return { ...result, config };
  } finally {
    await source.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCli(argv, {
    dtype: { type: 'string' },
    quant: { type: 'string' },
    'group-size': { type: 'string' },
    'min-elements': { type: 'string' },
    'image-size': { type: 'string' },
    arch: { type: 'string' },
  }, USAGE, { min: 2, max: 2 });
  if (help) {
    console.log(USAGE);
    return 0;
  }
  const options: ConvertOptions = {
    dtype: choiceOption(values, 'dtype', FLOAT_DTYPES, USAGE),
    quant: choiceOption(values, 'quant', ['int8', 'int4'] as const, USAGE),
    groupSize: intOption(values, 'group-size', USAGE),
    minElements: intOption(values, 'min-elements', USAGE),
    imageSize: intOption(values, 'image-size', USAGE),
    arch: values.arch as string | undefined,
  };
  if (options.groupSize !== undefined && options.quant !== 'int4') throw new UsageError('--group-size needs --quant int4', USAGE);
  const [inPath, outPath] = positionals;
  const r = await convertCheckpoint(inPath, outPath, options);
  const c = r.config;
  console.log(
    `${inPath} -> ${outPath}: ${c.arch} (SAM ${c.version}, ${c.imageSize} px), ${r.tensors} tensors, ` +
      `${formatCount(r.values)} values, ${options.dtype ?? 'f32'}` +
      (options.quant ? `, ${options.quant} (${r.quantized.length} weights)` : '') +
      `, ${formatBytes(r.bytes)}`,
  );
  return 0;
}
