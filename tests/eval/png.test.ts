import { describe, expect, it } from 'vitest';
import { crc32, encodePng, type PngColor } from '../../src/eval/png.js';
import { decodePng } from './helpers/png-decode.js';

describe('PNG encoder', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it.each([
    ['gray', 1, 0],
    ['rgb', 3, 2],
    ['rgba', 4, 6],
  ] as const)('round-trips random %s pixels through an independent decoder', (color: PngColor, ch, type) => {
    let seed = ch;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const [w, h] = [13, 7];
    const pixels = new Uint8Array(w * h * ch).map(() => Math.floor(rand() * 256));
    const out = decodePng(encodePng(pixels, w, h, color));
    expect([out.width, out.height, out.colorType]).toEqual([w, h, type]);
    expect(Array.from(out.pixels)).toEqual(Array.from(pixels));
  });

  it('rejects wrong sizes', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2, 'rgba')).toThrow('png: rgba image 2×2 needs 16 bytes, got 10');
    expect(() => encodePng(new Uint8Array(0), 0, 2, 'gray')).toThrow(/positive integers/);
  });
});
