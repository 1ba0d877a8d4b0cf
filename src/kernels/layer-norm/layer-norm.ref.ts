// CPU reference (f64) for LayerNorm over the last axis with biased variance.
export function layerNormRef(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  rows: number,
  c: number,
  eps: number,
): Float64Array {
  const out = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < c; i++) mean += x[r * c + i];
    mean /= c;
    let v = 0;
    for (let i = 0; i < c; i++) v += (x[r * c + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / c + eps);
    for (let i = 0; i < c; i++) out[r * c + i] = (x[r * c + i] - mean) * inv * weight[i] + bias[i];
  }
  return out;
}
