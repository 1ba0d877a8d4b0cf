// Overlay pictures for reports: a grayscale slice with the predicted mask filled and outlined and
// the ground truth outlined in another colour, plus the prompt (box, clicks). Drawn at an integer
// upscale (nearest neighbour) so outlines stay one screen pixel thick on small slices.

import type { Box, Point } from '../volume/validate.js';
import { encodePng } from './png.js';

export type Rgb = [number, number, number];

export interface OverlayLayer {
  /** Binary mask (non-zero = inside), same size as the slice. */
  mask: ArrayLike<number>;
  color: Rgb;
  /** Fill opacity in [0, 1]; 0 draws no fill. */
  fill?: number;
  /** Draw the 4-neighbour boundary (default true). */
  outline?: boolean;
}

export const OVERLAY_COLORS = {
  prediction: [255, 70, 70] as Rgb,
  groundTruth: [40, 230, 70] as Rgb,
  box: [255, 220, 0] as Rgb,
  positiveClick: [0, 200, 255] as Rgb,
  negativeClick: [255, 0, 220] as Rgb,
};

export interface OverlayOptions {
  /** Integer upscale factor (default: enough to make the longer side at least 256 px, max 8). */
  scale?: number;
  box?: Box;
  points?: Point[];
}

export interface RgbaImage {
  rgba: Uint8Array;
  width: number;
  height: number;
}

function defaultScale(width: number, height: number): number {
  return Math.max(1, Math.min(8, Math.ceil(256 / Math.max(width, height))));
}

/** Composites layers (in order) over a gray slice; returns RGBA pixels at `scale`. */
export function renderOverlay(gray: ArrayLike<number>, width: number, height: number, layers: OverlayLayer[], options: OverlayOptions = {}): RgbaImage {
  if (gray.length !== width * height) throw new Error(`overlay: slice has ${gray.length} values, ${width}×${height} needs ${width * height}`);
  const scale = options.scale ?? defaultScale(width, height);
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`overlay: scale must be a positive integer, got ${scale}`);
  const W = width * scale;
  const H = height * scale;
  const rgba = new Uint8Array(W * H * 4);
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      const g = gray[Math.floor(Y / scale) * width + Math.floor(X / scale)];
      const o = (Y * W + X) * 4;
      rgba[o] = rgba[o + 1] = rgba[o + 2] = g;
      rgba[o + 3] = 255;
    }
  }
  const blend = (X: number, Y: number, c: Rgb, alpha: number) => {
    if (X < 0 || Y < 0 || X >= W || Y >= H) return;
    const o = (Y * W + X) * 4;
    for (let k = 0; k < 3; k++) rgba[o + k] = Math.round(rgba[o + k] * (1 - alpha) + c[k] * alpha);
  };
  for (const layer of layers) {
    if (layer.mask.length !== width * height) throw new Error(`overlay: mask has ${layer.mask.length} values, ${width}×${height} needs ${width * height}`);
    const inside = (X: number, Y: number) =>
      X >= 0 && Y >= 0 && X < W && Y < H && !!layer.mask[Math.floor(Y / scale) * width + Math.floor(X / scale)];
    const fill = layer.fill ?? 0;
    const outline = layer.outline ?? true;
    for (let Y = 0; Y < H; Y++) {
      for (let X = 0; X < W; X++) {
        if (!inside(X, Y)) continue;
        const edge = outline && (!inside(X - 1, Y) || !inside(X + 1, Y) || !inside(X, Y - 1) || !inside(X, Y + 1));
        if (edge) blend(X, Y, layer.color, 1);
        else if (fill > 0) blend(X, Y, layer.color, fill);
      }
    }
  }
  if (options.box) {
    // Box corners are inclusive pixel indices: draw around the outside of those pixels.
    const [x0, y0, x1, y1] = options.box.map((v) => Math.round(v));
    const L = x0 * scale;
    const T = y0 * scale;
    const R = (x1 + 1) * scale - 1;
    const B = (y1 + 1) * scale - 1;
    for (let X = L; X <= R; X++) {
      blend(X, T, OVERLAY_COLORS.box, 1);
      blend(X, B, OVERLAY_COLORS.box, 1);
    }
    for (let Y = T; Y <= B; Y++) {
      blend(L, Y, OVERLAY_COLORS.box, 1);
      blend(R, Y, OVERLAY_COLORS.box, 1);
    }
  }
  for (const p of options.points ?? []) {
    const cx = Math.round(p.x) * scale + Math.floor(scale / 2);
    const cy = Math.round(p.y) * scale + Math.floor(scale / 2);
    const c = p.label === 1 ? OVERLAY_COLORS.positiveClick : OVERLAY_COLORS.negativeClick;
    const r = Math.max(2, scale);
    for (let d = -r; d <= r; d++) {
      blend(cx + d, cy, c, 1);
      blend(cx, cy + d, c, 1);
    }
  }
  return { rgba, width: W, height: H };
}

/**
 * PNG of a slice with the prediction (red fill + outline) and ground truth (green outline), and the
 * prompt if given. Either mask may be omitted.
 */
export function overlayPng(
  gray: ArrayLike<number>,
  width: number,
  height: number,
  masks: { prediction?: ArrayLike<number>; groundTruth?: ArrayLike<number> },
  options: OverlayOptions = {},
): Uint8Array {
  const layers: OverlayLayer[] = [];
  if (masks.prediction) layers.push({ mask: masks.prediction, color: OVERLAY_COLORS.prediction, fill: 0.35 });
  if (masks.groundTruth) layers.push({ mask: masks.groundTruth, color: OVERLAY_COLORS.groundTruth, fill: 0 });
  const img = renderOverlay(gray, width, height, layers, options);
  return encodePng(img.rgba, img.width, img.height, 'rgba');
}
