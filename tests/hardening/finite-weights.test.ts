// Non-finite weights (issue 13, item 4): one NaN or Inf weight used to give empty masks and exit
// 0, and `convert` passed it on. Now loading refuses the file naming the tensor, and convert
// refuses the checkpoint and writes nothing.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { makeConfig } from '../../src/model/config.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { stateDictSpec } from '../../src/model/state-dict-spec.js';
import { synthesizeTensor } from '../../src/weights/synthetic.js';
import { convertCheckpoint } from '../../weights-tools/convert.js';
import { getTestGpu } from '../helpers/gpu.js';
import { microCheckpoint } from '../weights-tools/helpers/micro-checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'finite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = makeConfig('micro');
const POISONED = 'sam_mask_decoder.iou_prediction_head.layers.0.weight';

function weightsWith(poison: number): Uint8Array {
  return serializeSafetensors(
    stateDictSpec(config).map(({ key, shape }) => {
      const data = synthesizeTensor(key, shape);
      if (key === POISONED) data[3] = poison;
      return { name: key, dtype: 'F32' as const, shape, data };
    }),
  );
}

describe('non-finite weights', () => {
  for (const [what, value] of [['NaN', NaN], ['Inf', Infinity]] as const) {
    it(`loading refuses one ${what} weight, naming the tensor`, async () => {
      const gpu = await getTestGpu();
      await expect(Sam2Model.load(gpu, parseSafetensors(weightsWith(value)), config)).rejects.toThrow(
        new RegExp(`weights: tensor ${POISONED.replace(/\./g, '\\.')} has 1 NaN/Inf value \\(first at index 3\\); the weights file is corrupt`),
      );
    });
  }

  it('convert refuses a checkpoint with a NaN weight and writes nothing', async () => {
    const { bytes } = microCheckpoint({
      transform: (entries) =>
        entries.map((e) => {
          if (e.key !== POISONED) return e;
          const data = e.data.slice();
          data[5] = NaN;
          return { ...e, data };
        }),
    });
    const input = join(dir, 'nan.pt');
    writeFileSync(input, bytes);
    const output = join(dir, 'nan.safetensors');
    await expect(convertCheckpoint(input, output)).rejects.toThrow(
      new RegExp(`checkpoint: tensor "${POISONED.replace(/\./g, '\\.')}" has 1 NaN/Inf value after conversion to float32 \\(first at index 5\\)`),
    );
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(dir)).toEqual(['nan.pt']); // no temporary file either
  });
});
