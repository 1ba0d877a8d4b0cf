// CPU references for the SAM-heads selection kernels.

/** dst after copying src[srcOffset ..] (or fill) into dst[dstOffset ..] for count elements. */
export function rangeCopyRef(src: Float32Array, dst: Float32Array, srcOffset: number, dstOffset: number, count: number, fill?: number): Float64Array {
  const out = Float64Array.from(dst);
  for (let i = 0; i < count; i++) out[dstOffset + i] = fill ?? src[srcOffset + i];
  return out;
}
