// Weight files in every stored precision load through the engine: f16/bf16 are widened and
// int8/int4 dequantized on upload, and the checkpoint check sees their logical shapes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/io/safetensors.js';
import { makeConfig } from '../../src/model/config.js';
import { stateDictSpec } from '../../src/model/state-dict-spec.js';
import { validateCheckpoint, WeightStore } from '../../src/model/weights.js';
import { synthesizeTensor } from '../../src/weights/synthetic.js';
import { syntheticTensors } from '../../weights-tools/synth.js';
import { writeSam2Weights, type WeightsWriteOptions } from '../../weights-tools/weights-writer.js';
import { PackedWeight } from '../../src/kernels/packed-weight/packed-weight.js';
import { packMatrix } from '../../src/weights/packed.js';
import { getTestGpu } from '../helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'sam2-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = makeConfig('micro');
const KEY = 'memory_attention.layers.0.linear1.weight'; // [128, 64]: quantized at minElements 4096
const KEY_COLS = 64;
const variants: Array<[string, WeightsWriteOptions, number]> = [
  ['f16', { dtype: 'f16' }, 1e-3],
  ['bf16', { dtype: 'bf16' }, 8e-3],
  ['int8', { dtype: 'f32', quant: { scheme: 'int8', groupSize: 0, minElements: 4096 } }, 1e-2],
  ['int4', { dtype: 'f32', quant: { scheme: 'int4', groupSize: 32, minElements: 4096 } }, 0.15],
];

describe('weights in stored precisions', () => {
  it('f32 reference file', async () => {
    await writeSam2Weights(join(dir, 'f32.safetensors'), config, syntheticTensors(config), { dtype: 'f32' });
  });
  for (const [name, opts, relTol] of variants) {
    it(`${name}: validates and uploads as f32 close to the original`, async () => {
      const path = join(dir, `${name}.safetensors`);
      await writeSam2Weights(path, config, syntheticTensors(config), opts);
      const file = parseSafetensors(new Uint8Array(readFileSync(path)));
      validateCheckpoint(file, stateDictSpec(config), name);
      const store = new WeightStore(await getTestGpu(), file);
      const ref = synthesizeTensor(KEY, [128, 64]);
      expect(store.shape(KEY)).toEqual([128, 64]);
      const got = await store.gpu.read(store.tensor(KEY));
      let num = 0;
      let den = 0;
      for (let i = 0; i < ref.length; i++) {
        num += (got[i] - ref[i]) ** 2;
        den += ref[i] ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(relTol);
      expect(Math.sqrt(num / den)).toBeGreaterThan(0); // really stored at lower precision
      store.release();
    });
  }
});

describe('stored precisions stay packed on the GPU', () => {
  const formats: Array<[string, string, number | null]> = [
    ['f16', 'f16', null],
    ['bf16', 'bf16', null],
    ['int8', 'int8', KEY_COLS],
    ['int4', 'int4', 32],
  ];
  for (const [name, format, group] of formats) {
    it(`${name} file: the matrix keeps its format (${format}) and its bytes`, async () => {
      const file = parseSafetensors(new Uint8Array(readFileSync(join(dir, `${name}.safetensors`))));
      const store = new WeightStore(await getTestGpu(), file);
      const w = store.matrix(KEY);
      if (!(w instanceof PackedWeight)) throw new Error(`${name}: ${KEY} was widened to ${w.dtype}`);
      expect(w.format).toBe(format);
      expect(w.shape).toEqual([128, 64]);
      if (group !== null) {
        expect(w.group).toBe(group);
        // The file's quantized bytes are on the GPU as they are (no requantization).
        const words = new Uint32Array(await store.gpu.readRaw(w.data));
        const raw = file.get(KEY) as Int8Array | Uint8Array;
        expect(Array.from(new Uint8Array(words.buffer, 0, raw.byteLength))).toEqual(Array.from(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)));
      }
      // Asking for f32 weights widens / dequantizes instead.
      const f = store.matrix(KEY, { weights: 'f32', activations: 'f32' });
      expect(f instanceof PackedWeight).toBe(false);
      store.release();
    });
  }

  it('an f32 file quantized at load time: int4 and int8 decode to the CPU quantization', async () => {
    const file = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'f32.safetensors'))));
    const store = new WeightStore(await getTestGpu(), file, { minQuantElements: 0 });
    const w = store.matrix(KEY, { weights: 'int4-g64', activations: 'f32' }) as PackedWeight;
    const want = packMatrix(file.getFloat32(KEY), 128, 64, 'int4', { groupSize: 64 });
    expect(Array.from(new Uint32Array(await store.gpu.readRaw(w.data)))).toEqual(Array.from(want.words));
    // Rows that are not whole groups fall back to int8; small matrices stay float unless allowed.
    const odd = 'image_encoder.trunk.blocks.0.attn.qkv.weight'; // [48, 16] in micro
    expect((store.matrix(odd, { weights: 'int4-g64', activations: 'f32' }) as PackedWeight).format).toBe('int8');
    const strict = new WeightStore(store.gpu, file);
    expect(strict.matrix(odd, { weights: 'int4-g64', activations: 'f32' }) instanceof PackedWeight).toBe(false);
    store.release();
    strict.release();
  });
});
