// 1-D sine positional encoding of upstream sam2_utils.get_1d_sine_pe, float32-faithful:
// out = [sin(p / dim_t) | cos(p / dim_t)], dim_t = temperature ** (2 * (k // 2) / (dim / 2)).
export function sine1dF32(pos: number, dim: number, temperature = 10000): Float32Array {
  const pe = dim / 2;
  const out = new Float32Array(dim);
  for (let k = 0; k < pe; k++) {
    const e = Math.fround(Math.fround(2 * Math.floor(k / 2)) / pe);
    const dimT = Math.fround(Math.pow(temperature, e));
    const a = Math.fround(Math.fround(pos) / dimT);
    out[k] = Math.fround(Math.sin(a));
    out[k + pe] = Math.fround(Math.cos(a));
  }
  return out;
}
