// The app's marks over the viewer, on a transparent 2-D canvas on top of niivue's: a frame around
// the prompt plane, the session's prompts on the slice shown (green + / red − clicks ringed in the
// object's colour, boxes) and the box being dragged. Positions come from the viewer through
// `project` (slice pixels → CSS pixels of the canvas), so they follow zoom, pan and convention.
import type { PromptCall } from './protocol.js';
import type { Rgb } from './viewer.js';

export interface MarkerContent {
  /** Slice pixel → CSS pixel of the overlay canvas, or null where the plane is not shown. */
  project(x: number, y: number): [number, number] | null;
  /** The prompt plane's tile (CSS pixels), framed when several tiles are shown. */
  frame: { x: number; y: number; w: number; h: number } | null;
  prompts: readonly PromptCall[];
  colors: ReadonlyMap<number, Rgb>;
  activeObjId: number;
  /** A box being dragged, slice pixels. */
  dragBox?: [number, number, number, number];
}

const css = (c: Rgb) => `rgb(${c.join(',')})`;

/** Sizes the overlay canvas to its CSS box (device pixels) and clears it. */
function prepare(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round((canvas.clientWidth || 1) * dpr);
  const h = Math.round((canvas.clientHeight || 1) * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function strokeBox(ctx: CanvasRenderingContext2D, c: MarkerContent, box: readonly number[]): boolean {
  const a = c.project(box[0], box[1]);
  const b = c.project(box[2], box[3]);
  if (!a || !b) return false;
  ctx.strokeRect(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
  return true;
}

export function drawMarkers(canvas: HTMLCanvasElement, c: MarkerContent | null): void {
  const ctx = prepare(canvas);
  if (!c) return;
  if (c.frame) {
    ctx.strokeStyle = 'rgba(59, 130, 246, 0.9)';
    ctx.lineWidth = 2;
    ctx.strokeRect(c.frame.x + 1, c.frame.y + 1, c.frame.w - 2, c.frame.h - 2);
  }
  for (const p of c.prompts) {
    const color = c.colors.get(p.objId) ?? [255, 255, 255];
    if (p.box) {
      ctx.strokeStyle = css(color);
      ctx.lineWidth = p.objId === c.activeObjId ? 2 : 1.5;
      strokeBox(ctx, c, p.box);
    }
    p.points.forEach(([x, y], i) => {
      const at = c.project(x, y);
      if (!at) return;
      const positive = p.labels[i] === 1;
      const [cx, cy] = at;
      ctx.beginPath();
      ctx.arc(cx, cy, 6, 0, 2 * Math.PI);
      ctx.fillStyle = positive ? '#22c55e' : '#ef4444';
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = css(color);
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
    ctx.strokeStyle = css(c.colors.get(c.activeObjId) ?? [255, 255, 255]);
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1.5;
    strokeBox(ctx, c, c.dragBox);
    ctx.setLineDash([]);
  }
}
