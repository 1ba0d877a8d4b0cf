import { describe, expect, it } from 'vitest';
import {
  bfloat16ToFloat32Array,
  f16BitsToF32Bits,
  float16ToFloat32Array,
  float32Bits,
  float32FromBits,
  float32ToBfloat16Array,
  float32ToFloat16Array,
  fromBfloat16Bits,
  fromFloat16Bits,
  toBfloat16Bits,
  toFloat16Bits,
} from '../../src/io/half.js';

/** Deterministic float32 values spread over many binades, both signs. */
function randomFloats(n: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    // sign | exponent in [85, 146] (covers f16 subnormals .. beyond f16 max) | mantissa
    bits[i] = ((next() & 1) << 31) | ((85 + (next() % 62)) << 23) | (next() & 0x7fffff);
  }
  return out;
}

/** All finite non-negative float16 values, ascending, with their bit patterns. */
const f16Table = (() => {
  const values: number[] = [];
  for (let h = 0; h < 0x7c00; h++) values.push(float32FromBits(f16BitsToF32Bits(h)));
  return values;
})();

/** Reference: nearest float16 by search over the table, ties to the even bit pattern. */
function referenceF16(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  const max = f16Table[f16Table.length - 1];
  // 65520 = halfway between 65504 and 2^16 (the next value if the exponent did not overflow)
  if (a >= 65520) return sign | 0x7c00;
  if (a >= max) return sign | 0x7bff;
  let lo = 0;
  let hi = f16Table.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (f16Table[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dLo = a - f16Table[lo];
  const dHi = f16Table[hi] - a;
  const pick = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
  return sign | pick;
}

function referenceBf16(x: number): number {
  const bits = float32Bits(x);
  const lo = bits & 0xffff0000;
  const loVal = Math.abs(float32FromBits(lo));
  const hiPattern = (lo + 0x10000) >>> 0;
  // the pattern after the largest finite bf16 would be Inf; treat it as 2^128 for the distance
  const hiVal = (hiPattern & 0x7fffffff) === 0x7f800000 ? 2 ** 128 : Math.abs(float32FromBits(hiPattern));
  const a = Math.abs(x);
  const dLo = a - loVal;
  const dHi = hiVal - a;
  const pickHi = dHi < dLo || (dHi === dLo && ((lo >>> 16) & 1) === 1);
  return (pickHi ? hiPattern : lo) >>> 16;
}

describe('float16', () => {
  it('round-trips every float16 bit pattern through float32', () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const f = fromFloat16Bits(h);
      const isNanPattern = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (Number.isNaN(f) !== isNanPattern) bad.push(h);
      else if (isNanPattern ? !Number.isNaN(fromFloat16Bits(toFloat16Bits(f))) : toFloat16Bits(f) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('rounds to nearest even like the reference search (random values across all binades)', () => {
    const values = randomFloats(20000, 7);
    const out = float32ToFloat16Array(values);
    const bad = Array.from(values).filter((v, i) => out[i] !== referenceF16(v));
    expect(bad).toEqual([]);
  });

  it('handles ties, overflow, subnormals, zeros, Inf and NaN', () => {
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (1.0)
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (upper)
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65519.99)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00);
    expect(toFloat16Bits(-1e6)).toBe(0xfc00);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal -> 0
    expect(toFloat16Bits(2 ** -25 * 1.0000001)).toBe(0x0001);
    expect(toFloat16Bits(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 ulps -> 2
    expect(toFloat16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the normals
    expect(toFloat16Bits(-0)).toBe(0x8000);
    expect(toFloat16Bits(Infinity)).toBe(0x7c00);
    expect(toFloat16Bits(NaN) & 0x7e00).toBe(0x7e00);
    expect(fromFloat16Bits(0x3555)).toBe(Math.fround(0.333251953125));
  });

  it('array conversion inverts exactly on representable values', () => {
    const h = new Uint16Array(0x7c00).map((_, i) => i);
    expect(float32ToFloat16Array(float16ToFloat32Array(h))).toEqual(h);
  });
});

describe('bfloat16', () => {
  it('rounds to nearest even like the reference', () => {
    const values = randomFloats(20000, 11);
    const out = float32ToBfloat16Array(values);
    const bad = Array.from(values).filter((v, i) => out[i] !== referenceBf16(v));
    expect(bad).toEqual([]);
  });

  it('handles ties, overflow, Inf and NaN; widening is exact', () => {
    expect(toBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(toBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(toBfloat16Bits(float32FromBits(0x7f7fffff))).toBe(0x7f80); // rounds to Inf
    expect(toBfloat16Bits(-Infinity)).toBe(0xff80);
    expect(Number.isNaN(fromBfloat16Bits(toBfloat16Bits(NaN)))).toBe(true);
    expect(toBfloat16Bits(float32FromBits(0x7f800001))).not.toBe(0x7f80); // NaN stays NaN
    const b = new Uint16Array([0x3f80, 0xc000, 0x0001, 0x8000]);
    expect(Array.from(bfloat16ToFloat32Array(b))).toEqual([1, -2, float32FromBits(0x00010000), -0]);
  });
});
