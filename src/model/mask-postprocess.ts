// Output post-processing of the video predictor (upstream SAM2VideoPredictor._get_orig_video_res_output
// and SAM2Base._apply_non_overlapping_constraints), on the host: masks are read back anyway, and
// the low-res logits (4F x 4F) are far smaller than the video-resolution result.

/**
 * Bilinear resize of one [inH, inW] logit map to [outH, outW] with PyTorch's
 * `F.interpolate(mode="bilinear", align_corners=False)` conventions (scale in/out computed in
 * float32, source index clamped at 0).
 */
export function bilinearResize(src: Float32Array, inH: number, inW: number, outH: number, outW: number): Float32Array {
  const out = new Float32Array(outH * outW);
  const sy = Math.fround(inH / outH);
  const sx = Math.fround(inW / outW);
  const xs0 = new Int32Array(outW);
  const xs1 = new Int32Array(outW);
  const xl = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    const fx = Math.max(Math.fround(Math.fround(sx * (x + 0.5)) - 0.5), 0);
    const x0 = Math.min(Math.floor(fx), inW - 1);
    xs0[x] = x0;
    xs1[x] = Math.min(x0 + 1, inW - 1);
    xl[x] = Math.fround(fx - x0);
  }
  for (let y = 0; y < outH; y++) {
    const fy = Math.max(Math.fround(Math.fround(sy * (y + 0.5)) - 0.5), 0);
    const y0 = Math.min(Math.floor(fy), inH - 1);
    const y1 = Math.min(y0 + 1, inH - 1);
    const ly = Math.fround(fy - y0);
    const hy = 1 - ly;
    for (let x = 0; x < outW; x++) {
      const lx = xl[x];
      const hx = 1 - lx;
      const a = src[y0 * inW + xs0[x]];
      const b = src[y0 * inW + xs1[x]];
      const c = src[y1 * inW + xs0[x]];
      const d = src[y1 * inW + xs1[x]];
      out[y * outW + x] = hy * (hx * a + lx * b) + ly * (hx * c + lx * d);
    }
  }
  return out;
}

/**
 * Per pixel, only the object with the highest logit keeps its score; every other object's logit
 * is clamped to at most -10 (upstream `_apply_non_overlapping_constraints`). In place.
 */
export function applyNonOverlap(logits: Float32Array[]): void {
  if (logits.length < 2) return;
  const n = logits[0].length;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let o = 1; o < logits.length; o++) if (logits[o][i] > logits[best][i]) best = o;
    for (let o = 0; o < logits.length; o++) if (o !== best && logits[o][i] > -10) logits[o][i] = -10;
  }
}

export function binarize(logits: Float32Array): Uint8Array {
  const out = new Uint8Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] > 0 ? 1 : 0;
  return out;
}
