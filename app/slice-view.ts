// Draws one slice of the volume on a canvas: intensities through the window, object masks as
// coloured fills with brighter outlines, prompt markers, an optional crosshair, and the patient
// directions on the edges. Slices are shown with their physical aspect ratio (pixel spacing) and
// centred; `toSlice` / `toClient` convert between the canvas and slice pixel coordinates.
import { extractSlice, sliceShape, slicePixelSpacing, type Axis } from '../src/volume/slicing.js';
import type { Vec3 } from '../src/volume/volume.js';
import type { IntensityMapping } from '../src/volume/windowing.js';
import type { PromptCall } from './protocol.js';
import type { Rgb } from './segmentation.js';

export interface SliceContent {
  data: ArrayLike<number> & { length: number; constructor: unknown };
  labels: Uint8Array;
  dims: Vec3;
  spacing: Vec3;
  axis: Axis;
  index: number;
  mapping: IntensityMapping;
  /** Colour of each label value (index = object id). */
  colors: ReadonlyMap<number, Rgb>;
  /** Prompt markers to draw (slice pixels). */
  prompts?: PromptCall[];
  activeObjId?: number;
  /** A box being dragged, slice pixels. */
  dragBox?: [number, number, number, number];
  /** Crosshair through this slice pixel. */
  crosshair?: [number, number];
  /** Draw R/L/A/P/S/I letters on the edges. */
  directions?: boolean;
}

/** Patient direction at the left, right, top and bottom edge of each view, for the LPS grid. */
const EDGE_LETTERS: Record<Axis, [string, string, string, string]> = {
  axial: ['R', 'L', 'A', 'P'],
  coronal: ['R', 'L', 'S', 'I'],
  sagittal: ['A', 'P', 'S', 'I'],
};

const FILL_ALPHA = 0.42;
const EDGE_ALPHA = 0.95;

export class SliceView {
  private readonly offscreen = document.createElement('canvas');
  /** Where the slice was drawn last, in CSS pixels of the canvas. */
  private rect = { x: 0, y: 0, w: 1, h: 1, sliceW: 1, sliceH: 1 };

  constructor(readonly canvas: HTMLCanvasElement) {}

  /** Slice pixel coordinates (continuous: pixel centres at +0.5) of a client point, or null outside. */
  toSlice(clientX: number, clientY: number, clamp = false): [number, number] | null {
    const b = this.canvas.getBoundingClientRect();
    const r = this.rect;
    let x = ((clientX - b.left - r.x) / r.w) * r.sliceW;
    let y = ((clientY - b.top - r.y) / r.h) * r.sliceH;
    if (clamp) {
      x = Math.min(Math.max(x, 0), r.sliceW);
      y = Math.min(Math.max(y, 0), r.sliceH);
    } else if (x < 0 || y < 0 || x >= r.sliceW || y >= r.sliceH) return null;
    return [x, y];
  }

  /** Client (viewport) coordinates of a slice pixel coordinate. */
  toClient(x: number, y: number): [number, number] {
    const b = this.canvas.getBoundingClientRect();
    const r = this.rect;
    return [b.left + r.x + (x / r.sliceW) * r.w, b.top + r.y + (y / r.sliceH) * r.h];
  }

  render(c: SliceContent): void {
    const { width, height } = sliceShape(c.dims, c.axis);
    const image = this.composeImage(c, width, height);
    const off = this.offscreen;
    if (off.width !== width || off.height !== height) {
      off.width = width;
      off.height = height;
    }
    off.getContext('2d')!.putImageData(image, 0, 0);

    const canvas = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 1;
    const cssH = canvas.clientHeight || 1;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, cssW, cssH);
    // Physical size of the slice decides the aspect ratio (e.g. 2 mm × 3 mm pixels).
    const [sx, sy] = slicePixelSpacing(c.spacing, c.axis);
    const physW = width * sx;
    const physH = height * sy;
    const scale = Math.min(cssW / physW, cssH / physH);
    const w = physW * scale;
    const h = physH * scale;
    this.rect = { x: (cssW - w) / 2, y: (cssH - h) / 2, w, h, sliceW: width, sliceH: height };
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, this.rect.x, this.rect.y, w, h);
    this.drawMarkers(ctx, c);
  }

  private composeImage(c: SliceContent, width: number, height: number): ImageData {
    const values = extractSlice(c.data as never, c.dims, c.axis, c.index) as ArrayLike<number>;
    const labels = extractSlice(c.labels, c.dims, c.axis, c.index);
    const image = new ImageData(width, height);
    const px = image.data;
    const m = c.mapping;
    const range = m.max - m.min;
    const k = range > 0 ? 255 / range : 0;
    for (let n = 0; n < values.length; n++) {
      const v = values[n];
      let g = 0;
      if (!(m.keepZero && v === 0) && v === v) {
        const clipped = v < m.lower ? m.lower : v > m.upper ? m.upper : v;
        g = (clipped - m.min) * k;
        g = g <= 0 ? 0 : g >= 255 ? 255 : g | 0;
      }
      let r = g;
      let gr = g;
      let b = g;
      const lab = labels[n];
      if (lab) {
        const color = c.colors.get(lab) ?? [255, 255, 255];
        const x = n % width;
        const y = (n - x) / width;
        const edge =
          (x > 0 && labels[n - 1] !== lab) ||
          (x < width - 1 && labels[n + 1] !== lab) ||
          (y > 0 && labels[n - width] !== lab) ||
          (y < height - 1 && labels[n + width] !== lab);
        const a = edge ? EDGE_ALPHA : FILL_ALPHA;
        r = g * (1 - a) + color[0] * a;
        gr = g * (1 - a) + color[1] * a;
        b = g * (1 - a) + color[2] * a;
      }
      const o = 4 * n;
      px[o] = r;
      px[o + 1] = gr;
      px[o + 2] = b;
      px[o + 3] = 255;
    }
    return image;
  }

  private drawMarkers(ctx: CanvasRenderingContext2D, c: SliceContent): void {
    const r = this.rect;
    const X = (x: number) => r.x + (x / r.sliceW) * r.w;
    const Y = (y: number) => r.y + (y / r.sliceH) * r.h;
    if (c.crosshair) {
      ctx.strokeStyle = 'rgba(255, 215, 0, 0.55)';
      ctx.lineWidth = 1;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(X(c.crosshair[0]), r.y);
      ctx.lineTo(X(c.crosshair[0]), r.y + r.h);
      ctx.moveTo(r.x, Y(c.crosshair[1]));
      ctx.lineTo(r.x + r.w, Y(c.crosshair[1]));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    for (const p of c.prompts ?? []) {
      const color = c.colors.get(p.objId) ?? [255, 255, 255];
      const css = `rgb(${color.join(',')})`;
      if (p.box) {
        const [x0, y0, x1, y1] = p.box;
        ctx.strokeStyle = css;
        ctx.lineWidth = p.objId === c.activeObjId ? 2 : 1.5;
        ctx.strokeRect(X(x0), Y(y0), X(x1) - X(x0), Y(y1) - Y(y0));
      }
      p.points.forEach(([x, y], i) => {
        const positive = p.labels[i] === 1;
        const cx = X(x);
        const cy = Y(y);
        ctx.beginPath();
        ctx.arc(cx, cy, 6, 0, 2 * Math.PI);
        ctx.fillStyle = positive ? '#22c55e' : '#ef4444';
        ctx.fill();
        ctx.lineWidth = 2;
        ctx.strokeStyle = css;
        ctx.stroke();
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = 1.6;
        ctx.beginPath();
        ctx.moveTo(cx - 3, cy);
        ctx.lineTo(cx + 3, cy);
        if (positive) {
          ctx.moveTo(cx, cy - 3);
          ctx.lineTo(cx, cy + 3);
        }
        ctx.stroke();
      });
    }
    if (c.dragBox) {
      const [x0, y0, x1, y1] = c.dragBox;
      const color = c.colors.get(c.activeObjId ?? 0) ?? [255, 255, 255];
      ctx.strokeStyle = `rgb(${color.join(',')})`;
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = 1.5;
      ctx.strokeRect(X(x0), Y(y0), X(x1) - X(x0), Y(y1) - Y(y0));
      ctx.setLineDash([]);
    }
    if (c.directions) {
      const [left, right, top, bottom] = EDGE_LETTERS[c.axis];
      ctx.font = '600 13px system-ui, sans-serif';
      ctx.lineWidth = 3;
      ctx.strokeStyle = 'rgba(0, 0, 0, 0.8)';
      ctx.fillStyle = 'rgba(255, 255, 255, 0.9)';
      // Dark outline first so the letters stay legible over bright tissue and mask colours.
      const letter = (text: string, x: number, y: number, align: CanvasTextAlign, baseline: CanvasTextBaseline) => {
        ctx.textAlign = align;
        ctx.textBaseline = baseline;
        ctx.strokeText(text, x, y);
        ctx.fillText(text, x, y);
      };
      letter(left, r.x + 6, r.y + r.h / 2, 'left', 'middle');
      letter(right, r.x + r.w - 6, r.y + r.h / 2, 'right', 'middle');
      letter(top, r.x + r.w / 2, r.y + 6, 'center', 'top');
      letter(bottom, r.x + r.w / 2, r.y + r.h - 6, 'center', 'bottom');
    }
  }
}
