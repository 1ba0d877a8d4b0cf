// float16 / bfloat16 <-> float32 conversion, round-to-nearest-even, bit-exact with PyTorch's
// `tensor.half()` / `tensor.bfloat16()` (and numpy's float16) for every finite value, ±Inf and NaN.
// Works on raw bit patterns: the 16-bit formats travel as Uint16Array (no Float16Array in Node 20).

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Bits of a float32 value (the number is first rounded to float32). */
export function float32Bits(value: number): number {
  scratchF32[0] = value;
  return scratchU32[0];
}

/** float32 value of the given 32-bit pattern. */
export function float32FromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0];
}

/** float32 bits -> float16 bits, round-to-nearest-even; overflow -> ±Inf; NaN stays a (quiet) NaN. */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const halfExp = exp - 112; // rebias 127 -> 15
  if (halfExp >= 0x1f) return sign | 0x7c00;
  if (halfExp > 0) {
    // Normal half: drop 13 mantissa bits. A carry out of the mantissa correctly bumps the
    // exponent (and turns the largest values into Inf).
    let h = sign | (halfExp << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) !== 0)) h++;
    return h;
  }
  // Subnormal half (or zero): value = m * 2^-24 with m = full * 2^(exp - 126).
  const shift = 126 - exp; // >= 14
  if (shift > 24) return sign; // below half of the smallest subnormal
  const full = mant | 0x800000;
  let m = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (m & 1) !== 0)) m++;
  return sign | m;
}

/** float16 bits -> float32 bits (exact). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: normalise the mantissa.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** float32 bits -> bfloat16 bits, round-to-nearest-even; NaN stays a quiet NaN. */
export function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits -> float32 bits (exact). */
export function bf16BitsToF32Bits(b: number): number {
  return (b << 16) >>> 0;
}

export function toFloat16Bits(value: number): number {
  return f32BitsToF16Bits(float32Bits(value));
}

export function fromFloat16Bits(bits: number): number {
  return float32FromBits(f16BitsToF32Bits(bits));
}

export function toBfloat16Bits(value: number): number {
  return f32BitsToBf16Bits(float32Bits(value));
}

export function fromBfloat16Bits(bits: number): number {
  return float32FromBits(bf16BitsToF32Bits(bits));
}

function bitsOf(src: Float32Array): Uint32Array {
  return new Uint32Array(src.buffer, src.byteOffset, src.length);
}

export function float32ToFloat16Array(src: Float32Array): Uint16Array {
  const bits = bitsOf(src);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return out;
}

export function float16ToFloat32Array(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const outBits = bitsOf(out);
  for (let i = 0; i < src.length; i++) outBits[i] = f16BitsToF32Bits(src[i]);
  return out;
}

export function float32ToBfloat16Array(src: Float32Array): Uint16Array {
  const bits = bitsOf(src);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToBf16Bits(bits[i]);
  return out;
}

export function bfloat16ToFloat32Array(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const outBits = bitsOf(out);
  for (let i = 0; i < src.length; i++) outBits[i] = src[i] << 16;
  return out;
}
