// CPU reference (f64) for softmax(scale · x) over the last axis.
export function softmaxRef(x: ArrayLike<number>, rows: number, cols: number, scale = 1): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let i = 0; i < cols; i++) m = Math.max(m, scale * x[r * cols + i]);
    let s = 0;
    for (let i = 0; i < cols; i++) s += out[r * cols + i] = Math.exp(scale * x[r * cols + i] - m);
    for (let i = 0; i < cols; i++) out[r * cols + i] /= s;
  }
  return out;
}
