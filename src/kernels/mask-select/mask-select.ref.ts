// CPU references for the SAM-heads selection kernels.

/** dst after copying src[srcOffset ..] (or fill) into dst[dstOffset ..] for count elements. */
export function rangeCopyRef(src: Float32Array, dst: Float32Array, srcOffset: number, dstOffset: number, count: number, fill?: number): Float64Array {
  const out = Float64Array.from(dst);
  for (let i = 0; i < count; i++) out[dstOffset + i] = fill ?? src[srcOffset + i];
  return out;
}

/** [#(x > hi), #(x > lo)] over src[offset .. offset + count) (hi/lo compared as float32, like torch). */
export function thresholdCountsRef(src: Float32Array, offset: number, count: number, hi: number, lo: number): [number, number] {
  const h = Math.fround(hi);
  const l = Math.fround(lo);
  let nh = 0;
  let nl = 0;
  for (let i = offset; i < offset + count; i++) {
    if (src[i] > h) nh++;
    if (src[i] > l) nl++;
  }
  return [nh, nl];
}
