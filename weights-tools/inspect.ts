// `sam2-webgpu inspect FILE`: keys, shapes, dtypes, value counts, the config (from metadata or
// detected from shapes) and integrity checks of a weights file (.safetensors) or a PyTorch
// checkpoint (.pt). Reads headers only, unless --check-finite streams every tensor.

import { FileSource, readSafetensorsHeader, type RandomAccessSource } from '../src/io/node-files.js';
import { toFloat32, typedView, type ParsedHeader } from '../src/io/safetensors.js';
import { configFromMetadata, type Sam2Config } from '../src/model/config.js';
import { checkStateDict, describeStateDictProblems, numel, parameterCount, stateDictSpec } from '../src/model/state-dict-spec.js';
import { QUANT_SCALE_SUFFIX, readQuantMetadata, type QuantMetadata } from '../src/weights/quant.js';
import { formatBytes, formatCount, parseCli } from './cli-args.js';
import { resolveConfig } from './detect-arch.js';
import { openTorchCheckpoint, readTensorBytes } from './torch-checkpoint.js';

export const USAGE = `usage: sam2-webgpu inspect <file.safetensors|file.pt> [--check-finite] [--json] [--no-keys]

  --check-finite   read every tensor and count NaN / Inf values
  --json           print the report as JSON
  --no-keys        omit the per-tensor listing`;

/** One tensor of an inspected weights file. */
export interface InspectTensor {
  /** state_dict key. */
  key: string;
  /** Stored dtype (F32, F16, BF16, I8, ...). */
  dtype: string;
  /** Logical shape (the original shape of a quantized weight). */
  shape: number[];
  /** Number of values. */
  values: number;
  /** Stored quantized (int8 / int4). */
  quantized?: boolean;
  /** NaN / Inf values found (with `checkFinite`). */
  nonFinite?: number;
}

/** What `inspectFile` found in a weights file or checkpoint. */
export interface InspectReport {
  /** The inspected path. */
  file: string;
  /** Container format. */
  format: 'safetensors' | 'pytorch';
  /** File size in bytes. */
  fileBytes: number;
  /** All integrity checks passed (header/archive structure, state_dict vs config, finiteness). */
  ok: boolean;
  /** Integrity problems, one message each (empty when `ok`). */
  problems: string[];
  /** The file's metadata. */
  metadata: Record<string, string>;
  /** Every tensor. */
  tensors: InspectTensor[];
  /** Total number of values. */
  values: number;
  /** Tensor count per stored dtype. */
  dtypes: Record<string, number>;
  /** The SAM 2 configuration (from the metadata, else detected from the shapes). */
  config?: { arch: string; version: string; imageSize: number; source: 'metadata' | 'detected'; parameters: number };
  /** Quantization, when the file is quantized. */
  quant?: { scheme: string; groupSize: number | null; tensors: number };
}

function dtypeCounts(tensors: InspectTensor[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of tensors) counts[t.dtype] = (counts[t.dtype] ?? 0) + 1;
  return counts;
}

function countNonFinite(values: Float32Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) n++;
  return n;
}

/** Config from metadata, else detected from shapes; records problems instead of throwing. */
function configFor(metadata: Record<string, string>, shapes: Map<string, number[]>, problems: string[]): { summary?: InspectReport['config']; config?: Sam2Config } {
  let config: Sam2Config | undefined;
  let source: 'metadata' | 'detected' = 'metadata';
  try {
    config = configFromMetadata(metadata);
  } catch (e) {
    problems.push(`metadata config is invalid: ${(e as Error).message}`);
  }
  if (config) {
    const issues = checkStateDict(stateDictSpec(config), shapes);
    if (issues.length > 0) problems.push(`tensors do not match the metadata config ${config.arch}:\n${describeStateDictProblems(issues)}`);
  } else {
    source = 'detected';
    const imageSize = Number(metadata.image_size) || undefined;
    try {
      config = resolveConfig(shapes, { imageSize });
    } catch (e) {
      problems.push((e as Error).message);
      return {};
    }
  }
  return { config, summary: { arch: config.arch, version: config.version, imageSize: config.imageSize, source, parameters: parameterCount(config) } };
}

/** Lists tensors in state_dict order when the model is known (files group them by dtype). */
function sortByStateDict(tensors: InspectTensor[], config: Sam2Config | undefined): void {
  if (!config) return;
  const rank = new Map(stateDictSpec(config).map((e, i) => [e.key, i]));
  const position = (t: InspectTensor) => rank.get(t.key) ?? Number.MAX_SAFE_INTEGER;
  tensors.sort((a, b) => position(a) - position(b));
}

async function inspectSafetensors(path: string, src: RandomAccessSource, checkFinite: boolean): Promise<InspectReport> {
  const problems: string[] = [];
  let header: ParsedHeader;
  try {
    header = await readSafetensorsHeader(src);
  } catch (e) {
    return { file: path, format: 'safetensors', fileBytes: src.size, ok: false, problems: [(e as Error).message], metadata: {}, tensors: [], values: 0, dtypes: {} };
  }
  let quant: QuantMetadata | undefined;
  try {
    quant = readQuantMetadata(header.metadata);
  } catch (e) {
    problems.push((e as Error).message);
  }
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const tensors: InspectTensor[] = [];
  for (const t of header.tensors) {
    const base = t.name.endsWith(QUANT_SCALE_SUFFIX) ? t.name.slice(0, -QUANT_SCALE_SUFFIX.length) : undefined;
    if (quant && base !== undefined && quant.tensors[base]) continue;
    const q = quant?.tensors[t.name];
    if (q) {
      const scale = byName.get(t.name + QUANT_SCALE_SUFFIX);
      const [rows, ...rest] = q.shape;
      const cols = rest.reduce((a, b) => a * b, 1);
      const expectData = quant!.scheme === 'int8' ? { dtype: 'I8', shape: [rows, cols] } : { dtype: 'U8', shape: [rows, cols / 2] };
      const expectScale = quant!.scheme === 'int8' ? [rows] : [rows, cols / (quant!.group_size ?? 1)];
      if (t.dtype !== expectData.dtype || JSON.stringify(t.shape) !== JSON.stringify(expectData.shape)) {
        problems.push(`quantized "${t.name}" is ${t.dtype} ${JSON.stringify(t.shape)}, expected ${expectData.dtype} ${JSON.stringify(expectData.shape)}`);
      }
      if (!scale || scale.dtype !== 'F32' || JSON.stringify(scale.shape) !== JSON.stringify(expectScale)) {
        problems.push(`quantized "${t.name}" needs an F32 ${JSON.stringify(expectScale)} scale tensor "${t.name}${QUANT_SCALE_SUFFIX}"`);
      }
    }
    tensors.push({ key: t.name, dtype: q ? `${t.dtype}(${quant!.scheme})` : t.dtype, shape: q ? q.shape.slice() : t.shape, values: numel(q ? q.shape : t.shape), ...(q ? { quantized: true } : {}) });
  }
  for (const key of Object.keys(quant?.tensors ?? {})) if (!byName.has(key)) problems.push(`quantized tensor "${key}" listed in metadata is missing`);

  if (checkFinite) {
    for (const t of tensors) {
      // Quantized integers are always finite; their scales are what can go wrong.
      const name = t.quantized ? t.key + QUANT_SCALE_SUFFIX : t.key;
      const info = byName.get(name);
      if (!info || !['F32', 'F16', 'BF16', 'F64'].includes(info.dtype)) continue;
      const bytes = await src.read(header.dataOffset + info.byteOffset, info.byteLength);
      t.nonFinite = countNonFinite(toFloat32(info.dtype, typedView(info.dtype, bytes)));
      if (t.nonFinite > 0) problems.push(`tensor "${name}" has ${t.nonFinite} NaN/Inf values`);
    }
  }
  const shapes = new Map(tensors.map((t) => [t.key, t.shape]));
  const { summary, config } = configFor(header.metadata, shapes, problems);
  sortByStateDict(tensors, config);
  return {
    file: path,
    format: 'safetensors',
    fileBytes: src.size,
    ok: problems.length === 0,
    problems,
    metadata: header.metadata,
    tensors,
    values: tensors.reduce((a, t) => a + t.values, 0),
    dtypes: dtypeCounts(tensors),
    config: summary,
    quant: quant ? { scheme: quant.scheme, groupSize: quant.group_size, tensors: Object.keys(quant.tensors).length } : undefined,
  };
}

async function inspectCheckpoint(path: string, src: RandomAccessSource, checkFinite: boolean): Promise<InspectReport> {
  const problems: string[] = [];
  let ckpt;
  try {
    ckpt = await openTorchCheckpoint(src);
  } catch (e) {
    return { file: path, format: 'pytorch', fileBytes: src.size, ok: false, problems: [(e as Error).message], metadata: {}, tensors: [], values: 0, dtypes: {} };
  }
  const tensors: InspectTensor[] = [];
  for (const [key, ref] of ckpt.stateDict) {
    const t: InspectTensor = { key, dtype: ref.storage.dtype, shape: ref.shape, values: numel(ref.shape) };
    if (checkFinite && ['F32', 'F16', 'BF16', 'F64'].includes(ref.storage.dtype)) {
      try {
        const bytes = await readTensorBytes(ckpt, key, ref);
        t.nonFinite = countNonFinite(toFloat32(ref.storage.dtype, typedView(ref.storage.dtype, bytes)));
        if (t.nonFinite > 0) problems.push(`tensor "${key}" has ${t.nonFinite} NaN/Inf values`);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    tensors.push(t);
  }
  const metadata = { state_dict_path: ckpt.stateDictPath, top_level_keys: ckpt.topLevelKeys.join(',') };
  const { summary } = configFor({}, new Map(tensors.map((t) => [t.key, t.shape])), problems);
  return { file: path, format: 'pytorch', fileBytes: src.size, ok: problems.length === 0, problems, metadata, tensors, values: tensors.reduce((a, t) => a + t.values, 0), dtypes: dtypeCounts(tensors), config: summary };
}

/** Inspects a safetensors weights file or a PyTorch checkpoint: tensors, config and integrity. */
export async function inspectFile(path: string, options: { checkFinite?: boolean } = {}): Promise<InspectReport> {
  const src = await FileSource.open(path);
  try {
    const magic = await src.read(0, Math.min(4, src.size));
    const isZip = magic.length === 4 && magic[0] === 0x50 && magic[1] === 0x4b;
    const isLegacyTorch = magic[0] === 0x80;
    return isZip || isLegacyTorch
      ? await inspectCheckpoint(path, src, options.checkFinite ?? false)
      : await inspectSafetensors(path, src, options.checkFinite ?? false);
  } finally {
    await src.close();
  }
}

/** An inspection report as the `inspect` verb prints it. */
export function formatReport(r: InspectReport, showKeys = true): string {
  const lines = [`${r.file}: ${r.format}, ${formatBytes(r.fileBytes)}`];
  const meta = Object.entries(r.metadata).filter(([k]) => k !== 'sam2_config' && k !== 'sam2_quant');
  if (meta.length > 0) lines.push(`metadata: ${meta.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (r.config) {
    const c = r.config;
    lines.push(`config (${c.source}): ${c.arch}, SAM ${c.version}, image size ${c.imageSize}, ${formatCount(c.parameters)} parameters`);
  }
  if (r.quant) lines.push(`quantization: ${r.quant.scheme}${r.quant.groupSize ? ` group ${r.quant.groupSize}` : ''}, ${r.quant.tensors} weights`);
  lines.push(`tensors: ${r.tensors.length} (${Object.entries(r.dtypes).map(([d, n]) => `${d} x ${n}`).join(', ') || 'none'}), ${formatCount(r.values)} values`);
  if (showKeys && r.tensors.length > 0) {
    const width = Math.max(...r.tensors.map((t) => t.key.length));
    for (const t of r.tensors) {
      const finite = t.nonFinite === undefined ? '' : t.nonFinite === 0 ? '  finite' : `  ${t.nonFinite} NaN/Inf`;
      lines.push(`  ${t.key.padEnd(width)}  ${t.dtype.padEnd(9)} ${JSON.stringify(t.shape)}${finite}`);
    }
  }
  lines.push(r.ok ? 'integrity: OK' : `integrity: FAILED\n${r.problems.map((p) => `  - ${p.replace(/\n/g, '\n    ')}`).join('\n')}`);
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCli(argv, {
    'check-finite': { type: 'boolean' },
    json: { type: 'boolean' },
    'no-keys': { type: 'boolean' },
  }, USAGE, { min: 1, max: 1 });
  if (help) {
    console.log(USAGE);
    return 0;
  }
  const report = await inspectFile(positionals[0], { checkFinite: values['check-finite'] === true });
  console.log(values.json ? JSON.stringify(report, null, 1) : formatReport(report, values['no-keys'] !== true));
  return report.ok ? 0 : 1;
}
