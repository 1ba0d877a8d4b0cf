// CPU reference of the preprocessing kernel: bilinear resize of uint8 pixels with half-pixel
// centres (edge-clamped, rounded to uint8, halves up), then the per-channel lookup table.
// Same semantics as src/volume/preprocess-ref.ts, extended to RGB input and channels-last output.

/** Returns [S, S, 3] (channels-last) as float64 holding the table's float32 values. */
export function preprocessRef(
  src: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
  outSize: number,
  lut: Float32Array,
): Float64Array {
  const out = new Float64Array(outSize * outSize * 3);
  const coord = (d: number, scale: number, n: number): [number, number, number] => {
    const f = Math.max(0, (d + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(f), n - 1);
    return [i0, Math.min(i0 + 1, n - 1), f - i0];
  };
  const sxs = width / outSize;
  const sys = height / outSize;
  for (let y = 0; y < outSize; y++) {
    const [y0, y1, wy] = coord(y, sys, height);
    for (let x = 0; x < outSize; x++) {
      const [x0, x1, wx] = coord(x, sxs, width);
      for (let c = 0; c < 3; c++) {
        const ic = channels === 3 ? c : 0;
        const at = (yy: number, xx: number) => src[(yy * width + xx) * channels + ic];
        const a = at(y0, x0);
        const b = at(y0, x1);
        const cc = at(y1, x0);
        const d = at(y1, x1);
        const top = a + (b - a) * wx;
        const bottom = cc + (d - cc) * wx;
        const u = Math.min(255, Math.floor(top + (bottom - top) * wy + 0.5));
        out[(y * outSize + x) * 3 + c] = lut[c * 256 + u];
      }
    }
  }
  return out;
}
