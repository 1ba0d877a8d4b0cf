// CPU references (f64) for axial RoPE: the table in exact arithmetic, and the rotation of a host
// token matrix by a given table.

/** compute_axial_cis in f64 (no float32 rounding): [endX·endY, dim/2, 2] of (cos, sin). */
export function axialRopeTableRef(headDim: number, endX: number, endY: number, theta = 10000): Float64Array {
  const quarter = headDim / 4;
  const half = headDim / 2;
  const out = new Float64Array(endX * endY * half * 2);
  for (let t = 0; t < endX * endY; t++) {
    for (let j = 0; j < quarter; j++) {
      const freq = 1 / Math.pow(theta, (4 * j) / headDim);
      const ax = (t % endX) * freq;
      const ay = Math.floor(t / endX) * freq;
      out[(t * half + j) * 2] = Math.cos(ax);
      out[(t * half + j) * 2 + 1] = Math.sin(ax);
      out[(t * half + quarter + j) * 2] = Math.cos(ay);
      out[(t * half + quarter + j) * 2 + 1] = Math.sin(ay);
    }
  }
  return out;
}

/**
 * Rotates tokens [0, tokens - excluded) of x (rows of `rowStride` from `offset`, heads·headDim
 * channels each) by table[(t mod grid)], leaves the rest unchanged. Returns [tokens, heads·headDim].
 */
export function ropeRef(
  x: Float32Array,
  table: ArrayLike<number>,
  s: { tokens: number; heads: number; headDim: number; grid: number; numExcludedTail?: number; offset?: number; rowStride?: number },
): Float64Array {
  const c = s.heads * s.headDim;
  const half = s.headDim / 2;
  const offset = s.offset ?? 0;
  const rowStride = s.rowStride ?? c;
  const rotated = s.tokens - (s.numExcludedTail ?? 0);
  const out = new Float64Array(s.tokens * c);
  for (let t = 0; t < s.tokens; t++) {
    for (let pr = 0; pr < c / 2; pr++) {
      const a = x[offset + t * rowStride + 2 * pr];
      const b = x[offset + t * rowStride + 2 * pr + 1];
      let ra = a;
      let rb = b;
      if (t < rotated) {
        const e = ((t % s.grid) * half + (pr % half)) * 2;
        const cos = table[e];
        const sin = table[e + 1];
        ra = a * cos - b * sin;
        rb = a * sin + b * cos;
      }
      out[t * c + 2 * pr] = ra;
      out[t * c + 2 * pr + 1] = rb;
    }
  }
  return out;
}
