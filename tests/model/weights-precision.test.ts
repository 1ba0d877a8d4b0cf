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
import { getTestGpu } from '../helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'sam2-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = makeConfig('micro');
const KEY = 'memory_attention.layers.0.linear1.weight'; // [128, 64]: quantized at minElements 4096
const variants: Array<[string, WeightsWriteOptions, number]> = [
  ['f16', { dtype: 'f16' }, 1e-3],
  ['bf16', { dtype: 'bf16' }, 8e-3],
  ['int8', { dtype: 'f32', quant: { scheme: 'int8', groupSize: 0, minElements: 4096 } }, 1e-2],
  ['int4', { dtype: 'f32', quant: { scheme: 'int4', groupSize: 32, minElements: 4096 } }, 0.15],
];

describe('weights in stored precisions', () => {
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
