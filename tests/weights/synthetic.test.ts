import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSafetensorsFile } from '../../src/io/node-files.js';
import { makeConfig } from '../../src/model/config.js';
import {
  SYNTHETIC_RULES,
  fnv1a32,
  synthesizeTensor,
  synthesizeWeights,
  syntheticBits,
  syntheticRule,
  syntheticValue,
  syntheticWeightsFile,
} from '../../src/weights/synthetic.js';
import { fixturePath } from '../helpers/fixtures-dir.js';

interface ManifestEntry {
  key: string;
  shape: number[];
  rule: string;
  scale: number;
  offset: number;
  seed: string;
  sum: number;
  sum_sq: number;
  first: number;
  last: number;
}

const doc = readFileSync(fixturePath('SYNTHETIC_WEIGHTS.md'), 'utf8');

/** The "Test vectors" table of SYNTHETIC_WEIGHTS.md. */
function testVectors() {
  const rows: Array<{ row: string; key: string; shape: number[]; index: number; seed: number; x: number; value: number }> = [];
  const re = /^\| (R\w+) \| (?:tiny|micro) \| `([^`]+)` \| (\[[\d, ]+\]) \| (\d+)[^|]* \| (0x[0-9a-f]+) \| (0x[0-9a-f]+) \| ([-\d.e+]+) \|$/gm;
  for (const m of doc.matchAll(re)) {
    rows.push({ row: m[1], key: m[2], shape: JSON.parse(m[3]), index: Number(m[4]), seed: Number(m[5]), x: Number(m[6]), value: Number(m[7]) });
  }
  return rows;
}

describe('synthetic weights (synthetic-formula v1)', () => {
  it('the embedded rule table equals synthetic_weights_rules.json', () => {
    const rules = JSON.parse(readFileSync(fixturePath('synthetic_weights_rules.json'), 'utf8')).rules;
    expect(SYNTHETIC_RULES).toEqual(rules);
  });

  it('reproduces every test vector of SYNTHETIC_WEIGHTS.md', () => {
    const vectors = testVectors();
    expect(vectors.length).toBe(36); // 3 per row
    for (const v of vectors) {
      const seed = fnv1a32(v.key);
      expect(seed, v.key).toBe(v.seed);
      expect(syntheticBits(seed, v.index), v.key).toBe(v.x);
      const { row, scale, offset } = syntheticRule(v.key, v.shape);
      expect(row, v.key).toBe(v.row);
      // 9 significant digits identify a float32 uniquely
      expect(syntheticValue(seed, v.index, scale, offset), `${v.key}[${v.index}]`).toBe(Math.fround(v.value));
      if (v.index < v.shape.reduce((a, b) => a * b, 1)) {
        expect(synthesizeTensor(v.key, v.shape)[v.index]).toBe(Math.fround(v.value));
      }
    }
  });

  for (const [name, arch] of [['micro', 'micro'], ['tiny', 'sam2.1_hiera_t']] as const) {
    it(`matches synthetic_weights_manifest_${name}.json (first/last exact, sums to 1e-9)`, () => {
      const entries: ManifestEntry[] = JSON.parse(readFileSync(fixturePath(`synthetic_weights_manifest_${name}.json`), 'utf8')).keys;
      const weights = synthesizeWeights(makeConfig(arch));
      expect([...weights.keys()]).toEqual(entries.map((e) => e.key));
      let values = 0;
      for (const e of entries) {
        const rule = syntheticRule(e.key, e.shape);
        expect({ key: e.key, rule: rule.row, scale: rule.scale, offset: rule.offset, seed: fnv1a32(e.key) })
          .toEqual({ key: e.key, rule: e.rule, scale: e.scale, offset: e.offset, seed: Number(e.seed) });
        const data = weights.get(e.key)!.data;
        values += data.length;
        expect(data[0], e.key).toBe(e.first);
        expect(data[data.length - 1], e.key).toBe(e.last);
        let sum = 0;
        let sumSq = 0;
        for (let i = 0; i < data.length; i++) {
          sum += data[i];
          sumSq += data[i] * data[i];
        }
        expect(Math.abs(sum - e.sum), e.key).toBeLessThanOrEqual(1e-9 * Math.max(Math.abs(e.sum), 1e-3) + 1e-12);
        expect(Math.abs(sumSq - e.sum_sq), e.key).toBeLessThanOrEqual(1e-9 * e.sum_sq);
      }
      expect(values).toBe(name === 'micro' ? 1668946 : 38962754);
    });
  }

  it('micro weights equal micro-image/weights.safetensors bit for bit', async () => {
    const file = await readSafetensorsFile(fixturePath('micro-image', 'weights.safetensors'));
    const weights = synthesizeWeights(makeConfig('micro'));
    expect(new Set(file.keys())).toEqual(new Set(weights.keys()));
    for (const [key, { shape, data }] of weights) {
      expect(file.info(key).dtype).toBe('F32');
      expect(file.info(key).shape).toEqual(shape);
      expect(Buffer.from(file.bytesOf(key)).equals(Buffer.from(data.buffer)), key).toBe(true);
    }
  });

  it('the in-memory micro file equals micro-image/weights.safetensors bit for bit; keep selects keys', async () => {
    const stored = await readSafetensorsFile(fixturePath('micro-image', 'weights.safetensors'));
    const file = syntheticWeightsFile(makeConfig('micro'));
    expect(file.keys()).toEqual(stored.keys());
    for (const key of stored.keys()) {
      expect(file.info(key).dtype).toBe('F32');
      expect(file.info(key).shape).toEqual(stored.info(key).shape);
      expect(Buffer.from(file.bytesOf(key)).equals(Buffer.from(stored.bytesOf(key))), key).toBe(true);
    }
    const decoder = syntheticWeightsFile(makeConfig('micro'), (key) => key.startsWith('sam_mask_decoder.'));
    expect(decoder.keys()).toEqual(stored.keys().filter((key) => key.startsWith('sam_mask_decoder.')));
    expect(decoder.keys().length).toBeGreaterThan(0);
  });

  it('fails on a key no rule covers', () => {
    expect(() => synthesizeTensor('image_encoder.trunk.something', [3])).toThrow(/no rule matches "image_encoder.trunk.something"/);
  });
});
