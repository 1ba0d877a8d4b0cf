// GPU memory of the weights of SAM 2.1 hiera-t (synthetic values, real shapes) at each weight
// precision, quantized at load time from one f32 file: int4 must take under 20 % of the f32
// bytes, and int8 about a quarter. Loading runs no kernel, so this is cheap even at full size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SafetensorsFile } from '../../src/io/safetensors.js';
import { makeConfig } from '../../src/model/config.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { getTestGpu } from '../helpers/gpu.js';

const config = makeConfig('sam2.1_hiera_t', { imageSize: 512 });

describe('weight memory on the GPU: hiera-t', () => {
  let file: SafetensorsFile;
  const bytes = new Map<string, number>();
  beforeAll(() => {
    file = syntheticWeightsFile(config);
  });
  afterAll(() => {
    const f32 = bytes.get('stored');
    if (f32) console.log(`hiera-t weight bytes: ${[...bytes].map(([p, b]) => `${p} ${(b / 2 ** 20).toFixed(1)} MiB (${(f32 / b).toFixed(2)}x)`).join(', ')}`);
  });

  const load = async (precision: string): Promise<number> => {
    const model = await Sam2Model.load(await getTestGpu(), file, { config, precision });
    const n = model.weights.uploadedBytes;
    const formats = model.weights.bytesByFormat();
    model.release();
    bytes.set(precision, n);
    return formats[precision.startsWith('int4') ? 'int4' : precision === 'int8' ? 'int8' : 'f32'] ?? 0;
  };

  it('f32 (as stored): every weight as f32', async () => {
    await load('stored');
    expect(bytes.get('stored')).toBeGreaterThan(4 * 38e6);
  });

  it('int8: about 4x smaller', async () => {
    expect(await load('int8')).toBeGreaterThan(0);
    const r = bytes.get('int8')! / bytes.get('stored')!;
    expect(r).toBeLessThan(0.27);
    // Small matrices and the f32 norms, biases and tables keep int8 a little above a quarter.
    expect(r).toBeGreaterThan(0.24);
  });

  it('int4-g64: below 20 % of the f32 bytes (about 7x smaller)', async () => {
    expect(await load('int4-g64')).toBeGreaterThan(0);
    expect(bytes.get('int4-g64')! / bytes.get('stored')!).toBeLessThan(0.2);
  });

  it('f16 and bf16: half', async () => {
    for (const p of ['f16', 'bf16']) {
      await load(p);
      expect(bytes.get(p)! / bytes.get('stored')!).toBeLessThan(0.51);
    }
  });
});
