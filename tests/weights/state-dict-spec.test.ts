import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configFromOfficial, makeConfig } from '../../src/model/config.js';
import {
  checkStateDict,
  describeStateDictProblems,
  parameterCount,
  stateDictSpec,
  stateDictValueCount,
} from '../../src/model/state-dict-spec.js';
import { fixturePath } from '../helpers/fixtures-dir.js';

interface ManifestKey {
  key: string;
  shape: number[];
}

const manifest = (name: string): ManifestKey[] =>
  JSON.parse(readFileSync(fixturePath(`synthetic_weights_manifest_${name}.json`), 'utf8')).keys;

const costTable = JSON.parse(readFileSync(fixturePath('..', 'spec', 'COST_TABLE.json'), 'utf8'));

describe('stateDictSpec', () => {
  for (const [name, arch] of [['micro', 'micro'], ['tiny', 'sam2.1_hiera_t']] as const) {
    it(`equals synthetic_weights_manifest_${name}.json (keys, shapes and PyTorch order)`, () => {
      const expected = manifest(name);
      const spec = stateDictSpec(makeConfig(arch));
      const asMap = (list: Array<{ key: string; shape: number[] }>) => new Map(list.map((e) => [e.key, e.shape]));
      expect(asMap(spec)).toEqual(asMap(expected));
      expect(spec.map((e) => e.key)).toEqual(expected.map((e) => e.key));
    });
  }

  it('micro fixture config gives the manifest too', () => {
    const fixture = JSON.parse(readFileSync(fixturePath('micro-image', 'fixture.json'), 'utf8'));
    const spec = stateDictSpec(configFromOfficial(fixture.model.config));
    expect(spec.map((e) => [e.key, e.shape])).toEqual(manifest('micro').map((e) => [e.key, e.shape]));
  });

  it('parameter counts of all sizes match COST_TABLE.json (and the RFF buffer is the only buffer)', () => {
    for (const size of ['t', 's', 'b+', 'l']) {
      const row = costTable.models[`${size}@1024`].params;
      expect(parameterCount(makeConfig(`sam2.1_hiera_${size}`))).toBe(row['sam2.1']);
      expect(parameterCount(makeConfig(`sam2_hiera_${size}`))).toBe(row['sam2.0']);
      // the state_dict holds the 2 x 128 random-Fourier matrix on top of the parameters
      expect(stateDictValueCount(makeConfig(`sam2.1_hiera_${size}`))).toBe(row['sam2.1'] + 256);
      // image size does not change the weights
      expect(parameterCount(makeConfig(`sam2.1_hiera_${size}`, { imageSize: 512 }))).toBe(costTable.models[`${size}@512`].params['sam2.1']);
    }
    const buffers = stateDictSpec(makeConfig('sam2.1_hiera_l')).filter((e) => e.kind === 'buffer');
    expect(buffers.map((e) => e.key)).toEqual(['sam_prompt_encoder.pe_layer.positional_encoding_gaussian_matrix']);
  });

  it('SAM 2.0 lacks obj_ptr_tpos_proj and no_obj_embed_spatial', () => {
    const v20 = new Set(stateDictSpec(makeConfig('sam2_hiera_t')).map((e) => e.key));
    const v21 = new Set(stateDictSpec(makeConfig('sam2.1_hiera_t')).map((e) => e.key));
    expect([...v21].filter((k) => !v20.has(k)).sort()).toEqual(['no_obj_embed_spatial', 'obj_ptr_tpos_proj.bias', 'obj_ptr_tpos_proj.weight']);
    expect([...v20].filter((k) => !v21.has(k))).toEqual([]);
  });

  it('spec §4.1 key counts per module (tiny)', () => {
    const spec = stateDictSpec(makeConfig('sam2.1_hiera_t'));
    const count = (prefix: string) => spec.filter((e) => e.key.startsWith(prefix)).length;
    expect(count('image_encoder.trunk.')).toBe(154);
    expect(count('image_encoder.neck.')).toBe(8);
    expect(count('memory_attention.')).toBe(106);
    expect(count('memory_encoder.')).toBe(40);
    expect(count('sam_prompt_encoder.')).toBe(17);
    expect(count('sam_mask_decoder.')).toBe(131);
    expect(count('sam_mask_decoder.transformer.')).toBe(82);
  });

  it('checkStateDict reports missing, unexpected and mis-shaped keys', () => {
    const spec = stateDictSpec(makeConfig('micro'));
    const shapes = new Map(spec.map((e) => [e.key, e.shape]));
    expect(checkStateDict(spec, shapes)).toEqual([]);
    shapes.delete('no_mem_embed');
    shapes.set('no_mem_embedding', [1, 1, 64]);
    shapes.set('obj_ptr_proj.layers.0.weight', [64, 63]);
    const problems = checkStateDict(spec, shapes);
    expect(problems).toEqual([
      { kind: 'missing', key: 'no_mem_embed', expected: [1, 1, 64] },
      { kind: 'shape', key: 'obj_ptr_proj.layers.0.weight', expected: [64, 64], actual: [64, 63] },
      { kind: 'unexpected', key: 'no_mem_embedding', actual: [1, 1, 64] },
    ]);
    expect(describeStateDictProblems(problems)).toMatch(/missing key "no_mem_embed"[\s\S]*has shape \[64,63\], expected \[64,64\][\s\S]*unexpected key "no_mem_embedding"/);
  });
});
