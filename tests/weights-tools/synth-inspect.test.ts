import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensorsFile } from '../../src/io/node-files.js';
import { serializeSafetensors } from '../../src/io/safetensors.js';
import { configFromMetadata, configToMetadata, makeConfig } from '../../src/model/config.js';
import { QUANT_METADATA_KEY, makeQuantMetadata, quantizeInt8 } from '../../src/weights/quant.js';
import { synthesizeWeights } from '../../src/weights/synthetic.js';
import { formatReport, inspectFile } from '../../weights-tools/inspect.js';
import { run as synthRun, syntheticTensors, writeSyntheticWeights } from '../../weights-tools/synth.js';
import { fixturePath } from '../helpers/fixtures-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'synth-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const costTable = JSON.parse(readFileSync(fixturePath('..', 'spec', 'COST_TABLE.json'), 'utf8'));

describe('synth', () => {
  it('would write exactly the COST_TABLE parameter counts (+ the 256-value RFF buffer) for t, s, b+, l', () => {
    for (const version of ['sam2', 'sam2.1'] as const) {
      for (const size of ['t', 's', 'b+', 'l']) {
        const tensors = syntheticTensors(makeConfig(`${version}_hiera_${size}`));
        const values = tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
        expect(values, `${version} ${size}`).toBe(costTable.models[`${size}@1024`].params[version === 'sam2' ? 'sam2.0' : 'sam2.1'] + 256);
      }
    }
  });

  it('micro output equals micro-image/weights.safetensors bit for bit, with the config in the metadata', async () => {
    const out = join(dir, 'micro.safetensors');
    const r = await writeSyntheticWeights(makeConfig('micro'), out);
    expect(r.values).toBe(1668946);
    const ours = await readSafetensorsFile(out);
    const ref = await readSafetensorsFile(fixturePath('micro-image', 'weights.safetensors'));
    expect(new Set(ours.keys())).toEqual(new Set(ref.keys()));
    for (const key of ref.keys()) expect(Buffer.from(ours.bytesOf(key)).equals(Buffer.from(ref.bytesOf(key))), key).toBe(true);
    expect(ours.metadata.formula).toBe('synthetic-formula v1');
    expect(configFromMetadata(ours.metadata)).toEqual(makeConfig('micro'));
  });

  it('the synth verb honours --arch, --image-size, --dtype, --out', async () => {
    const out = join(dir, 'micro-bf16.safetensors');
    expect(await synthRun(['--arch', 'micro', '--image-size', '512', '--dtype', 'bf16', '--out', out])).toBe(0);
    const file = await readSafetensorsFile(out);
    expect(file.info('no_mem_embed').dtype).toBe('BF16');
    expect(file.metadata.image_size).toBe('512');
    await expect(synthRun(['--image-size', '512'])).rejects.toThrow(/--arch is required/);
    await expect(synthRun(['--arch', 'micro', '--dtype', 'f8'])).rejects.toThrow(/--dtype must be one of f32, f16, bf16/);
    await expect(synthRun(['--arch', 'huge'])).rejects.toThrow(/unknown architecture "huge"/);
  });
});

describe('inspect', () => {
  it('reports a valid file, detecting the config from shapes when the metadata has none', async () => {
    const r = await inspectFile(fixturePath('micro-image', 'weights.safetensors'), { checkFinite: true });
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.config).toEqual({ arch: 'micro', version: '2.1', imageSize: 256, source: 'detected', parameters: 1668882 });
    expect(r.tensors.length).toBe(371);
    expect(r.values).toBe(1668946);
    expect(r.dtypes).toEqual({ F32: 371 });
    expect(r.tensors.every((t) => t.nonFinite === 0)).toBe(true);
    expect(r.tensors[0]).toMatchObject({ key: 'maskmem_tpos_enc', dtype: 'F32', shape: [7, 1, 1, 16], values: 112 });
    const text = formatReport(r);
    expect(text).toMatch(/config \(detected\): micro, SAM 2\.1, image size 256, 1,668,882 parameters/);
    expect(text).toMatch(/sam_mask_decoder\.iou_token\.weight\s+F32\s+\[1,64\]/);
    expect(text).toMatch(/integrity: OK$/);
  });

  it('reads a PyTorch checkpoint too', async () => {
    const r = await inspectFile(fixturePath('micro-image', 'checkpoint.pt'));
    expect(r).toMatchObject({ format: 'pytorch', ok: true, values: 1668946 });
    expect(r.config?.arch).toBe('micro');
    expect(r.metadata.state_dict_path).toBe('model');
  });

  it('flags a corrupt header, NaN values, tensors that contradict the metadata config, broken quantization', async () => {
    const corrupt = join(dir, 'corrupt.safetensors');
    copyFileSync(fixturePath('micro-image', 'weights.safetensors'), corrupt);
    const bytes = readFileSync(corrupt);
    writeFileSync(corrupt, bytes.subarray(0, bytes.length - 100));
    const r1 = await inspectFile(corrupt);
    expect(r1.ok).toBe(false);
    expect(r1.problems[0]).toMatch(/past the \d+-byte data section|tensors cover/);
    expect(formatReport(r1)).toMatch(/integrity: FAILED/);

    const weights = [...synthesizeWeights(makeConfig('micro'))].map(([name, { shape, data }]) => ({ name, dtype: 'F32' as const, shape, data }));
    weights[3].data[5] = NaN;
    const nan = join(dir, 'nan.safetensors');
    writeFileSync(nan, serializeSafetensors(weights, configToMetadata(makeConfig('micro'))));
    const r2 = await inspectFile(nan, { checkFinite: true });
    expect(r2.problems).toEqual([`tensor "${weights[3].name}" has 1 NaN/Inf values`]);
    expect(r2.config?.source).toBe('metadata');

    const missing = join(dir, 'missing.safetensors');
    writeFileSync(missing, serializeSafetensors(weights.slice(1), configToMetadata(makeConfig('micro'))));
    const r3 = await inspectFile(missing);
    expect(r3.ok).toBe(false);
    expect(r3.problems.join('\n')).toMatch(/do not match the metadata config micro:\nmissing key "maskmem_tpos_enc"/);

    const w = weights.find((t) => t.name === 'memory_attention.layers.0.linear1.weight')!;
    const q = quantizeInt8(w.data, 128, 64);
    const quantized = weights.filter((t) => t !== w).concat([{ name: w.name, dtype: 'I8' as never, shape: [128, 64], data: q.data as never }]);
    const broken = join(dir, 'broken-quant.safetensors');
    writeFileSync(broken, serializeSafetensors(quantized, {
      ...configToMetadata(makeConfig('micro')),
      [QUANT_METADATA_KEY]: JSON.stringify(makeQuantMetadata('int8', null, { [w.name]: { shape: [128, 64] } })),
    }));
    const r4 = await inspectFile(broken);
    expect(r4.quant).toEqual({ scheme: 'int8', groupSize: null, tensors: 1 });
    expect(r4.problems).toEqual([`quantized "${w.name}" needs an F32 [128] scale tensor "${w.name}.__scale"`]);
  });
});
