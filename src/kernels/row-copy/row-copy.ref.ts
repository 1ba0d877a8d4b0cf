// CPU reference of the strided row copy.

/** dst after copying `rows` rows of `count` elements from src (strided) into dst (strided). */
export function rowCopyRef(src: ArrayLike<number>, dst: ArrayLike<number>, rows: number, count: number, srcOffset: number, srcStride: number, dstOffset: number, dstStride: number): Float64Array {
  const out = Float64Array.from(dst);
  for (let r = 0; r < rows; r++) for (let j = 0; j < count; j++) out[dstOffset + r * dstStride + j] = src[srcOffset + r * srcStride + j];
  return out;
}
