// CPU references for the NHWC layout ops (pure index arithmetic; values are copied exactly).

/** [B, H, W, C] -> [B·nwy·nwx, w, w, C], zero padded at the bottom/right. */
export function windowPartitionRef(x: Float32Array, b: number, h: number, w: number, c: number, win: number): Float64Array {
  const nwy = Math.ceil(h / win);
  const nwx = Math.ceil(w / win);
  const out = new Float64Array(b * nwy * nwx * win * win * c);
  let o = 0;
  for (let bi = 0; bi < b; bi++)
    for (let wy = 0; wy < nwy; wy++)
      for (let wx = 0; wx < nwx; wx++)
        for (let ty = 0; ty < win; ty++)
          for (let tx = 0; tx < win; tx++) {
            const y = wy * win + ty;
            const xx = wx * win + tx;
            for (let ch = 0; ch < c; ch++, o++) {
              out[o] = y < h && xx < w ? x[((bi * h + y) * w + xx) * c + ch] : 0;
            }
          }
  return out;
}

/** [B·nwy·nwx, w, w, C] -> [B, H, W, C] (crop). */
export function windowUnpartitionRef(x: Float32Array, b: number, h: number, w: number, c: number, win: number): Float64Array {
  const nwy = Math.ceil(h / win);
  const nwx = Math.ceil(w / win);
  const out = new Float64Array(b * h * w * c);
  for (let bi = 0; bi < b; bi++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const window = (bi * nwy + Math.floor(y / win)) * nwx + Math.floor(xx / win);
        const src = ((window * win + (y % win)) * win + (xx % win)) * c;
        for (let ch = 0; ch < c; ch++) out[((bi * h + y) * w + xx) * c + ch] = x[src + ch];
      }
  return out;
}

/** MaxPool2d(2, 2) on [B, H, W, C] read with a pixel stride and channel offset. */
export function maxPool2x2Ref(
  x: Float32Array,
  v: { batch: number; height: number; width: number; channels: number; offset?: number; pixelStride?: number; batchStride?: number },
): Float64Array {
  const { batch, height: h, width: w, channels: c } = v;
  const off = v.offset ?? 0;
  const ps = v.pixelStride ?? c;
  const bs = v.batchStride ?? h * w * ps;
  const ho = Math.floor(h / 2);
  const wo = Math.floor(w / 2);
  const out = new Float64Array(batch * ho * wo * c);
  for (let b = 0; b < batch; b++)
    for (let y = 0; y < ho; y++)
      for (let xx = 0; xx < wo; xx++)
        for (let ch = 0; ch < c; ch++) {
          let m = -Infinity;
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++) m = Math.max(m, x[off + b * bs + ((2 * y + dy) * w + 2 * xx + dx) * ps + ch]);
          out[((b * ho + y) * wo + xx) * c + ch] = m;
        }
  return out;
}

/** [B, R, S] -> [B, S, R]. */
export function transposeRef(x: Float32Array, b: number, r: number, s: number): Float64Array {
  const out = new Float64Array(b * r * s);
  for (let bi = 0; bi < b; bi++)
    for (let ri = 0; ri < r; ri++)
      for (let si = 0; si < s; si++) out[(bi * s + si) * r + ri] = x[(bi * r + ri) * s + si];
  return out;
}
