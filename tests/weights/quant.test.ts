import { describe, expect, it } from 'vitest';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import {
  QUANT_METADATA_KEY,
  dequantizeInt4,
  dequantizeInt8,
  logicalTensors,
  makeQuantMetadata,
  quantizationTarget,
  quantizeInt4,
  quantizeInt8,
  readQuantMetadata,
  readWeightFloat32,
} from '../../src/weights/quant.js';

function randomMatrix(rows: number, cols: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // rows with very different magnitudes, so per-row / per-group scales matter
    out[i] = ((s / 2 ** 32) * 2 - 1) * 10 ** ((Math.floor(i / cols) % 5) - 3);
  }
  return out;
}

/** max |w - w'| / scale over all elements, where scale is the element's block scale. */
function worstStepError(w: Float32Array, back: Float32Array, scales: Float32Array, block: number): number {
  let worst = 0;
  for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(back[i] - w[i]) / scales[Math.floor(i / block)]);
  return worst;
}

describe('int8 per-row quantization', () => {
  it('round-trips within half a quantization step, extremes map to +-127', () => {
    const [rows, cols] = [37, 96];
    const w = randomMatrix(rows, cols, 5);
    const { data, scales } = quantizeInt8(w, rows, cols);
    expect(scales.length).toBe(rows);
    const back = dequantizeInt8(data, scales, rows, cols);
    expect(worstStepError(w, back, scales, cols)).toBeLessThanOrEqual(0.5 + 1e-6);
    for (let r = 0; r < rows; r++) {
      const row = Array.from(data.subarray(r * cols, (r + 1) * cols));
      expect(Math.max(...row.map(Math.abs))).toBe(127);
      expect(Math.min(...row)).toBeGreaterThanOrEqual(-127);
    }
    // relative error per row is bounded by 1/254 of the row's max
    for (let r = 0; r < rows; r++) {
      const max = Math.max(...Array.from(w.subarray(r * cols, (r + 1) * cols), Math.abs));
      for (let c = 0; c < cols; c++) expect(Math.abs(back[r * cols + c] - w[r * cols + c])).toBeLessThanOrEqual(max / 254 * (1 + 1e-6));
    }
  });

  it('zero rows stay exactly zero; NaN/Inf are rejected', () => {
    const w = new Float32Array(8);
    w.set([1, -2, 3, 4], 4);
    const { data, scales } = quantizeInt8(w, 2, 4);
    expect(Array.from(scales)).toEqual([0, Math.fround(4 / 127)]);
    expect(Array.from(dequantizeInt8(data, scales, 2, 4).subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(() => quantizeInt8(Float32Array.from([1, NaN]), 1, 2)).toThrow(/NaN/);
    expect(() => quantizeInt8(Float32Array.from([1, Infinity]), 1, 2)).toThrow(/non-finite/);
  });
});

describe('int4 group quantization', () => {
  for (const group of [32, 64, 128]) {
    it(`round-trips within half a step (group ${group})`, () => {
      const [rows, cols] = [19, 256];
      const w = randomMatrix(rows, cols, group);
      const { data, scales } = quantizeInt4(w, rows, cols, group);
      expect(data.length).toBe((rows * cols) / 2);
      expect(scales.length).toBe((rows * cols) / group);
      const back = dequantizeInt4(data, scales, rows, cols, group);
      expect(worstStepError(w, back, scales, group)).toBeLessThanOrEqual(0.5 + 1e-6);
    });
  }

  it('packs q + 8 two per byte, even element in the low nibble', () => {
    // one group of 32: max 7 -> scale 1, values are their own codes
    const w = new Float32Array(32);
    w.set([7, -7, 1, 0, -1, 3.4, 3.6, -3.5]);
    const { data, scales } = quantizeInt4(w, 1, 32, 32);
    expect(scales[0]).toBe(1);
    expect(Array.from(data.subarray(0, 4))).toEqual([(7 + 8) | ((-7 + 8) << 4), (1 + 8) | (8 << 4), (-1 + 8) | ((3 + 8) << 4), (4 + 8) | ((-4 + 8) << 4)]);
    expect(Array.from(data.subarray(4))).toEqual(new Array(12).fill(0x88));
    // the same bits seen as little-endian u32 words: element i of a word at bits 4i..4i+3
    const word = new Uint32Array(data.buffer, 0, 1)[0];
    expect(((word >>> 4) & 0xf) - 8).toBe(-7);
  });

  it('rejects group sizes that do not divide the row or are unsupported', () => {
    expect(() => quantizeInt4(new Float32Array(96), 1, 96, 64)).toThrow(/not a multiple of the group size 64/);
    expect(() => quantizeInt4(new Float32Array(96), 1, 96, 48)).toThrow(/one of 32, 64, 128/);
  });
});

describe('selection and file layout', () => {
  it('quantizes only large Linear / 1x1-conv weights', () => {
    const opts = { scheme: 'int4' as const, groupSize: 64, minElements: 4096 };
    expect(quantizationTarget('memory_attention.layers.0.linear1.weight', [2048, 256], opts)).toEqual({ rows: 2048, cols: 256 });
    expect(quantizationTarget('memory_encoder.pix_feat_proj.weight', [256, 256, 1, 1], opts)).toEqual({ rows: 256, cols: 256 });
    expect(quantizationTarget('memory_attention.layers.0.linear1.bias', [2048], opts)).toBeNull();
    expect(quantizationTarget('memory_encoder.fuser.layers.0.dwconv.weight', [256, 1, 7, 7], opts)).toBeNull();
    expect(quantizationTarget('sam_mask_decoder.mask_tokens.weight', [4, 4096], opts)).toBeNull();
    expect(quantizationTarget('sam_prompt_encoder.point_embeddings.0.weight', [1, 8192], opts)).toBeNull();
    expect(quantizationTarget('x.weight', [32, 64], opts)).toBeNull(); // too small
    expect(quantizationTarget('x.weight', [64, 96], opts)).toBeNull(); // 96 % 64 != 0
    expect(quantizationTarget('x.weight', [64, 96], { ...opts, scheme: 'int8' })).toEqual({ rows: 64, cols: 96 });
  });

  it('readWeightFloat32 dequantizes a file written in the documented layout', () => {
    const w8 = randomMatrix(64, 128, 1);
    const w4 = randomMatrix(32, 128, 2);
    const plain = randomMatrix(3, 5, 3);
    const q8 = quantizeInt8(w8, 64, 128);
    const q4 = quantizeInt4(w4, 32, 128, 64);
    const file8 = parseSafetensors(serializeSafetensors([
      { name: 'a.weight', dtype: 'I8', shape: [64, 128], data: q8.data },
      { name: 'a.weight.__scale', dtype: 'F32', shape: [64], data: q8.scales },
      { name: 'b', dtype: 'F32', shape: [3, 5], data: plain },
    ], { [QUANT_METADATA_KEY]: JSON.stringify(makeQuantMetadata('int8', null, { 'a.weight': { shape: [64, 128, 1, 1] } })) }));
    expect(readWeightFloat32(file8, 'a.weight')).toEqual(dequantizeInt8(q8.data, q8.scales, 64, 128));
    expect(readWeightFloat32(file8, 'b')).toEqual(plain);
    expect(logicalTensors(file8)).toEqual([
      { key: 'a.weight', shape: [64, 128, 1, 1], quantized: true },
      { key: 'b', shape: [3, 5], quantized: false },
    ]);
    const file4 = parseSafetensors(serializeSafetensors([
      { name: 'c.weight.__scale', dtype: 'F32', shape: [32, 2], data: q4.scales },
      { name: 'c.weight', dtype: 'U8', shape: [32, 64], data: q4.data },
    ], { [QUANT_METADATA_KEY]: JSON.stringify(makeQuantMetadata('int4', 64, { 'c.weight': { shape: [32, 128] } })) }));
    expect(readWeightFloat32(file4, 'c.weight')).toEqual(dequantizeInt4(q4.data, q4.scales, 32, 128, 64));
    expect(readQuantMetadata({})).toBeUndefined();
    expect(() => readQuantMetadata({ [QUANT_METADATA_KEY]: '{"format":"other"}' })).toThrow(/unsupported format/);
  });
});
