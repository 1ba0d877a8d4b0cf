// CPU reference of the model's per-frame pre-processing, the ground truth for the GPU version.
// Upstream (sam2/utils/misc.py _load_img_as_tensor; MedSAM2 resize_grayscale_to_rgb_and_resize):
//   uint8 gray → PIL convert("RGB") → resize to image_size² → /255 → (x - mean) / std (ImageNet)
// Differences, on purpose:
// - Resize is bilinear with half-pixel centres (torch F.interpolate(mode='bilinear',
//   align_corners=False, antialias=False)), rounded to uint8 like PIL's output. PIL's default for
//   Image.resize is an antialiased bicubic filter, so values differ by a few grey levels on edges
//   and when shrinking; bilinear is what the GPU kernel implements.
// - Normalisation is two float32 operations per value: t = f32(f32(u / 255) - mean); out = f32(t / std).
// Output: Float32Array [3, S, S] (CHW); the gray value is replicated to R, G and B before normalising.

export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/**
 * Bilinear resize of a uint8 image with half-pixel centres and edge clamping; the result is rounded
 * to the nearest integer (halves up).
 */
export function resizeBilinearUint8(src: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  if (src.length !== width * height) throw new Error(`resize: image has ${src.length} values, ${width}×${height} needs ${width * height}`);
  if (!(outWidth >= 1 && outHeight >= 1 && Number.isInteger(outWidth) && Number.isInteger(outHeight))) {
    throw new Error(`resize: output size must be positive integers, got ${outWidth}×${outHeight}`);
  }
  const out = new Uint8Array(outWidth * outHeight);
  const sx = width / outWidth;
  const sy = height / outHeight;
  // Source coordinates of each output column, computed once.
  const x0s = new Int32Array(outWidth);
  const x1s = new Int32Array(outWidth);
  const fxs = new Float64Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    const fx = Math.max(0, (x + 0.5) * sx - 0.5);
    const x0 = Math.min(Math.floor(fx), width - 1);
    x0s[x] = x0;
    x1s[x] = Math.min(x0 + 1, width - 1);
    fxs[x] = fx - x0;
  }
  for (let y = 0; y < outHeight; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(fy), height - 1);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    const r0 = y0 * width;
    const r1 = y1 * width;
    for (let x = 0; x < outWidth; x++) {
      const a = src[r0 + x0s[x]];
      const b = src[r0 + x1s[x]];
      const c = src[r1 + x0s[x]];
      const d = src[r1 + x1s[x]];
      const wx = fxs[x];
      const top = a + (b - a) * wx;
      const bottom = c + (d - c) * wx;
      out[y * outWidth + x] = Math.min(255, Math.floor(top + (bottom - top) * wy + 0.5));
    }
  }
  return out;
}

/** ImageNet normalisation of one uint8 value for channel c, as two float32 operations. */
export function normalizeValue(u: number, c: number): number {
  const x = Math.fround(u / 255);
  const t = Math.fround(x - Math.fround(IMAGENET_MEAN[c]));
  return Math.fround(t / Math.fround(IMAGENET_STD[c]));
}

/** uint8 gray slice (width×height) → model input [3, imageSize, imageSize] float32 (CHW). */
export function preprocessSliceRef(slice: Uint8Array, width: number, height: number, imageSize: number): Float32Array {
  const resized = width === imageSize && height === imageSize ? slice : resizeBilinearUint8(slice, width, height, imageSize, imageSize);
  const plane = imageSize * imageSize;
  const out = new Float32Array(3 * plane);
  // 256-entry lookup per channel: the map from uint8 to float32 is all there is.
  for (let c = 0; c < 3; c++) {
    const lut = new Float32Array(256);
    for (let u = 0; u < 256; u++) lut[u] = normalizeValue(u, c);
    const o = c * plane;
    for (let p = 0; p < plane; p++) out[o + p] = lut[resized[p]];
  }
  return out;
}
