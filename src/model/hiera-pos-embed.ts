// Hiera's positional embedding for a given patch grid, computed once per image size on the host.
// Upstream: sam2/modeling/backbones/hieradet.py, Hiera._get_pos_embed:
//   bicubic(pos_embed [E, b, b] → (H, W), align_corners=False) + tile(pos_embed_window [E, w0, w0]).
// The bicubic follows PyTorch's CPU kernel (Keys cubic A = −0.75, source index
// scale·(dst + 0.5) − 0.5 unclamped, taps clamped to the border) step by step in float32.

const f = Math.fround;
const CUBIC_A = -0.75;

function cubic1(x: number): number {
  // ((A + 2)·x − (A + 3))·x·x + 1, for |x| ≤ 1
  return f(f(f(f(f((CUBIC_A + 2) * x) - (CUBIC_A + 3)) * x) * x) + 1);
}

function cubic2(x: number): number {
  // ((A·x − 5A)·x + 8A)·x − 4A, for 1 < |x| < 2
  return f(f(f(f(f(f(CUBIC_A * x) - 5 * CUBIC_A) * x) + 8 * CUBIC_A) * x) - 4 * CUBIC_A);
}

interface CubicTaps {
  index: Int32Array; // [out, 4] clamped source indices
  weight: Float32Array; // [out, 4]
}

function cubicTaps(inSize: number, outSize: number): CubicTaps {
  const scale = f(inSize / outSize);
  const index = new Int32Array(outSize * 4);
  const weight = new Float32Array(outSize * 4);
  for (let o = 0; o < outSize; o++) {
    const real = f(f(scale * f(o + 0.5)) - 0.5);
    const i0 = Math.floor(real);
    const t = f(real - i0);
    const w = [cubic2(f(t + 1)), cubic1(t), cubic1(f(1 - t)), cubic2(f(f(1 - t) + 1))];
    for (let j = 0; j < 4; j++) {
      index[o * 4 + j] = Math.min(Math.max(i0 - 1 + j, 0), inSize - 1);
      weight[o * 4 + j] = w[j];
    }
  }
  return { index, weight };
}

/**
 * PyTorch `F.interpolate(mode="bicubic", align_corners=False)` of a channel-first [C, inH, inW]
 * map to [C, outH, outW]: per output, the 4 x-taps of each of the 4 y-tap rows are summed first,
 * then the rows, accumulating in float32 in tap order.
 */
export function bicubicResizeChw(src: Float32Array, c: number, inH: number, inW: number, outH: number, outW: number): Float32Array {
  if (src.length !== c * inH * inW) throw new Error(`bicubic: ${src.length} values are not [${c}, ${inH}, ${inW}]`);
  const ty = cubicTaps(inH, outH);
  const tx = cubicTaps(inW, outW);
  const out = new Float32Array(c * outH * outW);
  for (let k = 0; k < c; k++) {
    const plane = k * inH * inW;
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        for (let j = 0; j < 4; j++) {
          const row = plane + ty.index[y * 4 + j] * inW;
          let t = 0;
          for (let i = 0; i < 4; i++) t = f(t + f(src[row + tx.index[x * 4 + i]] * tx.weight[x * 4 + i]));
          acc = f(acc + f(t * ty.weight[y * 4 + j]));
        }
        out[(k * outH + y) * outW + x] = acc;
      }
    }
  }
  return out;
}

/**
 * The embedding added after patch embedding, channels-last [H, W, E]:
 * bicubic(posEmbed [E, bh, bw] → H×W) + window embedding [E, w, w] tiled (H/w)×(W/w) times.
 */
export function hieraPosEmbed(
  posEmbed: Float32Array,
  bkg: readonly [number, number],
  windowEmbed: Float32Array,
  window: number,
  embedDim: number,
  h: number,
  w: number,
): Float32Array {
  if (posEmbed.length !== embedDim * bkg[0] * bkg[1]) throw new Error(`Hiera pos_embed has ${posEmbed.length} values, expected [${embedDim}, ${bkg[0]}, ${bkg[1]}]`);
  if (windowEmbed.length !== embedDim * window * window) throw new Error(`Hiera pos_embed_window has ${windowEmbed.length} values, expected [${embedDim}, ${window}, ${window}]`);
  if (h % window !== 0 || w % window !== 0) {
    throw new Error(`Hiera: the ${h}×${w} patch grid is not a multiple of the ${window}×${window} window position embedding (image size must be a multiple of ${4 * window})`);
  }
  const bg = bicubicResizeChw(posEmbed, embedDim, bkg[0], bkg[1], h, w);
  const out = new Float32Array(h * w * embedDim);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * embedDim;
      const win = (y % window) * window + (x % window);
      for (let k = 0; k < embedDim; k++) {
        out[o + k] = bg[(k * h + y) * w + x] + windowEmbed[k * window * window + win];
      }
    }
  }
  return out;
}
