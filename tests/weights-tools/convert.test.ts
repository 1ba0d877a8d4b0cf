import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { float32ToBfloat16Array, float32ToFloat16Array } from '../../src/io/half.js';
import { MemorySource, readSafetensorsFile } from '../../src/io/node-files.js';
import { configFromMetadata, configFromOfficial, makeConfig } from '../../src/model/config.js';
import { logicalTensors, readQuantMetadata, readWeightFloat32 } from '../../src/weights/quant.js';
import { synthesizeWeights } from '../../src/weights/synthetic.js';
import { convertCheckpoint } from '../../weights-tools/convert.js';
import { ZipArchive } from '../../weights-tools/zip-reader.js';
import { fixturePath } from '../helpers/fixtures-dir.js';
import { microCheckpoint } from './helpers/micro-checkpoint.js';
import { Pickler, writeCheckpoint, writeZip } from './helpers/torch-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** Writes `bytes` as a fresh input file; returns the input and a (not yet existing) output path. */
function files(bytes: Uint8Array, expectSuccess = false): { input: string; output: string } {
  const n = counter++;
  const input = join(dir, `in-${n}.pt`);
  writeFileSync(input, bytes);
  return { input, output: join(dir, `${expectSuccess ? 'ok' : 'out'}-${n}.safetensors`) };
}

function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Nothing but inputs may remain in the directory (no output, no temporary file). */
function expectNoOutputs(): void {
  expect(readdirSync(dir).filter((f) => !f.startsWith('in-') && !f.startsWith('ok-'))).toEqual([]);
}

describe('convert: official checkpoint', () => {
  it('micro-image/checkpoint.pt (torch.save) converts to tensors bit-identical to weights.safetensors', async () => {
    const output = join(dir, 'ok-micro.safetensors');
    const result = await convertCheckpoint(fixturePath('micro-image', 'checkpoint.pt'), output);
    expect(result.config.arch).toBe('micro');
    expect(result.tensors).toBe(371);
    const ours = await readSafetensorsFile(output);
    const ref = await readSafetensorsFile(fixturePath('micro-image', 'weights.safetensors'));
    expect(new Set(ours.keys())).toEqual(new Set(ref.keys()));
    for (const key of ref.keys()) {
      expect(ours.info(key).dtype).toBe('F32');
      expect(ours.info(key).shape).toEqual(ref.info(key).shape);
      expect(Buffer.from(ours.bytesOf(key)).equals(Buffer.from(ref.bytesOf(key))), key).toBe(true);
    }
    // the config travels in the metadata and equals the fixture's model
    const fixture = JSON.parse(readFileSync(fixturePath('micro-image', 'fixture.json'), 'utf8'));
    const fromFixture = configFromOfficial(fixture.model.config, { arch: 'micro' });
    expect(configFromMetadata(ours.metadata)).toEqual(fromFixture);
    expect(ours.metadata).toMatchObject({ arch: 'micro', image_size: '256', version: '2.1', source: 'checkpoint.pt', dtype: 'f32' });
    // every tensor starts aligned to its element size
    for (const key of ours.keys()) expect((ours.header.dataOffset + ours.info(key).byteOffset) % 4).toBe(0);
  });

  it('--dtype f16 / bf16 round to nearest even', async () => {
    const weights = synthesizeWeights(makeConfig('micro'));
    for (const [dtype, round] of [['f16', float32ToFloat16Array], ['bf16', float32ToBfloat16Array]] as const) {
      const output = join(dir, `ok-micro-${dtype}.safetensors`);
      const r = await convertCheckpoint(fixturePath('micro-image', 'checkpoint.pt'), output, { dtype });
      const file = await readSafetensorsFile(output);
      expect(r.bytes).toBeLessThan(3.5e6);
      for (const [key, { data }] of weights) {
        expect(file.info(key).dtype).toBe(dtype === 'f16' ? 'F16' : 'BF16');
        expect(Buffer.from(file.bytesOf(key)).equals(Buffer.from(round(data).buffer)), key).toBe(true);
      }
    }
  });

  it('--quant int8 / int4 quantize Linear and 1x1-conv weights within half a step', async () => {
    const weights = synthesizeWeights(makeConfig('micro'));
    for (const quant of ['int8', 'int4'] as const) {
      const output = join(dir, `ok-micro-${quant}.safetensors`);
      const r = await convertCheckpoint(fixturePath('micro-image', 'checkpoint.pt'), output, {
        quant, groupSize: quant === 'int4' ? 32 : undefined, minElements: 1024,
      });
      const file = await readSafetensorsFile(output);
      const meta = readQuantMetadata(file.metadata)!;
      expect(meta.scheme).toBe(quant);
      expect(Object.keys(meta.tensors).sort()).toEqual(r.quantized.slice().sort());
      expect(r.quantized).toContain('memory_attention.layers.0.linear1.weight');
      expect(r.quantized).toContain('image_encoder.neck.convs.0.conv.weight'); // 1x1 conv
      expect(r.quantized).not.toContain('sam_mask_decoder.mask_tokens.weight'); // embedding
      expect(r.quantized).not.toContain('image_encoder.trunk.patch_embed.proj.weight'); // 7x7 conv
      expect(logicalTensors(file).map((t) => t.key).sort()).toEqual([...weights.keys()].sort());
      for (const [key, { shape, data }] of weights) {
        const back = readWeightFloat32(file, key);
        expect(back.length).toBe(data.length);
        if (!meta.tensors[key]) {
          expect(sameBits(back, data), key).toBe(true);
          continue;
        }
        expect(meta.tensors[key].shape).toEqual(shape);
        const scales = file.get(`${key}.__scale`) as Float32Array;
        const cols = data.length / shape[0];
        const group = quant === 'int8' ? cols : 32;
        let worst = 0;
        for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(back[i] - data[i]) / scales[Math.floor(i / group)]);
        expect(worst, key).toBeLessThanOrEqual(0.5 + 1e-5);
      }
    }
  });
});

describe('convert: checkpoint layouts', () => {
  it('handles shared storages at offsets, strided views, f16/bf16/f64 storages, Parameters, extra entries, zip64', async () => {
    const { bytes, expected } = microCheckpoint({ tricky: true, zip64: true });
    const { input, output } = files(bytes, true);
    await convertCheckpoint(input, output);
    const file = await readSafetensorsFile(output);
    expect(file.keys().length).toBe(expected.size);
    for (const [key, values] of expected) expect(sameBits(file.get(key), values), key).toBe(true);
  });

  it('a bare state_dict and a big-endian checkpoint give the same tensors', async () => {
    const reference = microCheckpoint({ tricky: true });
    for (const variant of [microCheckpoint({ tricky: true, wrapModel: false }), microCheckpoint({ tricky: true, byteorder: 'big' })]) {
      const { input, output } = files(variant.bytes, true);
      await convertCheckpoint(input, output);
      const file = await readSafetensorsFile(output);
      for (const [key, values] of reference.expected) expect(sameBits(file.get(key), values), key).toBe(true);
    }
  });

  it('--arch and --image-size set the stored config', async () => {
    const { input, output } = files(microCheckpoint().bytes, true);
    const r = await convertCheckpoint(input, output, { arch: 'micro', imageSize: 512 });
    expect(r.config.imageSize).toBe(512);
    expect(configFromMetadata((await readSafetensorsFile(output)).metadata)).toEqual(makeConfig('micro', { imageSize: 512 }));
  });
});

describe('convert: bad inputs fail fast and leave no output', () => {
  const failures: Array<[string, () => Uint8Array, RegExp, Parameters<typeof convertCheckpoint>[2]?]> = [
    ['a truncated zip', () => new Uint8Array(readFileSync(fixturePath('micro-image', 'checkpoint.pt'))).subarray(0, 3_000_000), /end-of-central-directory record not found: the file is truncated/],
    ['a pickle with a foreign global (os.system)', () => writeCheckpoint({
      pickle: new Pickler().proto(2).global('os', 'system').str('touch /tmp/sam2-pwned').tuple1().reduce().stop().result(),
      storages: new Map(),
    }), /global "os.system" is not allowed/],
    ['torch.storage._load_from_bytes', () => writeCheckpoint({
      pickle: new Pickler().proto(2).global('torch.storage', '_load_from_bytes').stop().result(),
      storages: new Map(),
    }), /global "torch.storage._load_from_bytes" is not allowed/],
    ['a missing key', () => microCheckpoint({ transform: (e) => e.filter((t) => t.key !== 'sam_mask_decoder.iou_token.weight') }).bytes,
      /state_dict does not match micro:\nmissing key "sam_mask_decoder.iou_token.weight"/],
    ['a renamed key', () => microCheckpoint({ transform: (e) => e.map((t) => (t.key === 'memory_attention.norm.bias' ? { ...t, key: 'memory_attention.final_norm.bias' } : t)) }).bytes,
      /missing key "memory_attention.norm.bias"[\s\S]*unexpected key "memory_attention.final_norm.bias"/],
    ['a wrong shape', () => microCheckpoint({ transform: (e) => e.map((t) => (t.key === 'obj_ptr_proj.layers.1.bias' ? { ...t, shape: [32], data: t.data.subarray(0, 32) } : t)) }).bytes,
      /key "obj_ptr_proj.layers.1.bias" has shape \[32\], expected \[64\]/],
    ['an unknown architecture (trunk matches no preset)', () => {
      const micro = JSON.parse(readFileSync(fixturePath('micro_config.json'), 'utf8')).full_config;
      micro.image_encoder.trunk.embed_dim = 24;
      micro.image_encoder.neck.backbone_channel_list = [192, 96, 48, 24];
      return microCheckpoint({ config: configFromOfficial(micro) }).bytes;
    }, /unknown architecture: SAM 2.1 trunk with embed_dim 24, stages \[1,2,3,2\]/],
    ['SAM 2.0-style keys forced to a 2.1 preset', () => microCheckpoint({ transform: (e) => e.filter((t) => !t.key.startsWith('obj_ptr_tpos_proj') && t.key !== 'no_obj_embed_spatial') }).bytes,
      /missing key "no_obj_embed_spatial"/, { arch: 'micro' }],
    ['not a SAM 2 state_dict', () => microCheckpoint({ transform: (e) => e.filter((t) => t.key.startsWith('memory_attention')) }).bytes,
      /not a SAM 2 state_dict: missing key "image_encoder.trunk.pos_embed"/],
    ['a legacy (non-zip) torch file', () => Uint8Array.from([0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]), /legacy \(pre-1.6, non-zip\)/],
    ['a storage smaller than announced', () => {
      const pickle = new Pickler().proto(2).emptyDict().str('model').global('collections', 'OrderedDict').emptyTuple().reduce()
        .str('w').global('torch._utils', '_rebuild_tensor_v2').mark()
        .mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(8).tuple().binpersid()
        .int(0).intTuple([8]).intTuple([1]).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce()
        .setitem().setitem().stop().result();
      return writeCheckpoint({ pickle, storages: new Map([['0', new Uint8Array(16)]]) });
    }, /storage archive\/data\/0 has 16 bytes, expected 32 \(8 x F32\)/],
    ['a compressed entry', () => writeZip([{ name: 'archive/data.pkl', data: new Uint8Array(8), method: 8 }]), /compressed \(method 8\)/],
  ];

  for (const [what, build, message, options] of failures) {
    it(what, async () => {
      const { input, output } = files(build());
      await expect(convertCheckpoint(input, output, options)).rejects.toThrow(message);
      expectNoOutputs();
    });
  }

  it('a view past the end of its storage', async () => {
    // a valid micro checkpoint whose first tensor claims storage offset 200 (BININT1 after BINPERSID)
    const { bytes } = microCheckpoint();
    const archive = await ZipArchive.open(new MemorySource(bytes));
    const p = (await archive.read('archive/data.pkl')).slice();
    const at = Buffer.from(p).indexOf(Buffer.from([0x51, 0x4b, 0x00]));
    expect(at).toBeGreaterThan(0);
    p[at + 2] = 200;
    const storages = new Map<string, Uint8Array>();
    for (const name of archive.names()) {
      if (name.startsWith('archive/data/')) storages.set(name.slice('archive/data/'.length), await archive.read(name));
    }
    const { input, output } = files(writeCheckpoint({ pickle: p, storages }));
    await expect(convertCheckpoint(input, output)).rejects.toThrow(/tensor "maskmem_tpos_enc" \(shape \[7,1,1,16\], stride \[16,16,16,1\], offset 200\) reaches element 311 of a 112-element storage/);
    expectNoOutputs();
  });

  it('rejects an f16 overflow, bad options and input == output', async () => {
    const { input, output } = files(microCheckpoint({ transform: (e) => e.map((t) => (t.key === 'no_obj_ptr' ? { ...t, data: t.data.map((v, i) => (i === 3 ? 1e6 : v)) } : t)) }).bytes);
    await expect(convertCheckpoint(input, output, { dtype: 'f16' })).rejects.toThrow(/tensor "no_obj_ptr": value 1000000 at index 3 overflows f16/);
    expectNoOutputs();
    await expect(convertCheckpoint(input, output, { quant: 'int8', groupSize: 32 })).rejects.toThrow(/--group-size only applies to --quant int4/);
    await expect(convertCheckpoint(input, output, { quant: 'int4', groupSize: 48 })).rejects.toThrow(/group size must be one of 32, 64, 128/);
    await expect(convertCheckpoint(input, input)).rejects.toThrow(/same file/);
    await expect(convertCheckpoint(join(dir, 'missing.pt'), output)).rejects.toThrow(/ENOENT/);
    expectNoOutputs();
  });
});
