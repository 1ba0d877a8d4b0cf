// Launchers for Hiera's window partition / unpartition (sam2/modeling/backbones/utils.py), the
// 2×2 max pool of hieradet.py (do_pool with nn.MaxPool2d(2, 2)) and NCHW <-> NHWC permutes.
// Feature maps are NHWC: [B, H, W, C] (or [H, W, C] for B = 1).
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { maxPool2x2Source, transposeSource, windowPartitionSource, windowUnpartitionSource } from './window.wgsl.js';

const WG = 256;

/** The 4 dims of a rank-4 tensor, or [1, ...dims] of a rank-3 one (`layout` names them for errors). */
function dims4(t: GpuTensor, name: string, layout = 'H, W, C'): [number, number, number, number] {
  check(t.shape.length === 3 || t.shape.length === 4, name, `expected [B?, ${layout}], got ${shapeStr(t.shape)}`);
  const s = t.shape.length === 3 ? [1, ...t.shape] : [...t.shape];
  return s as [number, number, number, number];
}

function positive(name: string, what: string, x: number): void {
  check(Number.isInteger(x) && x >= 1, name, `${what} must be a positive integer, got ${x}`);
}

/** Windows per side of an H×W map padded up to multiples of `window`. */
export function windowGrid(height: number, width: number, window: number): { nwy: number; nwx: number; hp: number; wp: number } {
  const nwy = Math.ceil(height / window);
  const nwx = Math.ceil(width / window);
  return { nwy, nwx, hp: nwy * window, wp: nwx * window };
}

/**
 * x [B?, H, W, C] -> out [B·nwy·nwx, w, w, C]: zero padding at the bottom/right up to multiples of
 * w (Hiera pads the normalised map; the padded tokens then go through qkv, they are not masked).
 */
export function windowPartitionProgram(x: GpuTensor, window: number, out: GpuTensor): KernelProgram {
  const name = `window-partition-${x.dtype}`;
  positive(name, 'window', window);
  const [b, h, w, c] = dims4(x, name);
  const { nwy, nwx } = windowGrid(h, w, window);
  const total = b * nwy * nwx * window * window * c;
  check(out.size === total && out.dtype === x.dtype, name, `out ${shapeStr(out.shape)} must hold [${b * nwy * nwx}, ${window}, ${window}, ${c}] ${x.dtype}`);
  check(out.buffer !== x.buffer, name, 'out must not share a buffer with x');
  return {
    name,
    source: () => windowPartitionSource(x.dtype),
    constants: { WG },
    bindings: [x, out],
    uniforms: uniforms([['u32', total], ['u32', c], ['u32', h], ['u32', w], ['u32', window], ['u32', nwx], ['u32', nwy]]),
    workgroups: dispatch1d(total, WG),
    bytes: (x.size + total) * 4,
  };
}

export function windowPartition(gpu: Gpu, x: GpuTensor, window: number, out?: GpuTensor): GpuTensor {
  const [b, h, w, c] = dims4(x, 'window-partition');
  const { nwy, nwx } = windowGrid(h, w, window);
  const o = out ?? gpu.empty([b * nwy * nwx, window, window, c], x.dtype, 'windows');
  gpu.run(windowPartitionProgram(x, window, o));
  return o;
}

/** Window side w (from x [windows, w, w, C]), batch and windows per side for an H×W map. */
function unpartitionDims(x: GpuTensor, height: number, width: number, name: string) {
  positive(name, 'height', height);
  positive(name, 'width', width);
  check(x.shape.length === 4 && x.shape[1] === x.shape[2] && x.shape[1] >= 1, name, `x ${shapeStr(x.shape)} is not [windows, w, w, C]`);
  const win = x.shape[1];
  const { nwy, nwx } = windowGrid(height, width, win);
  check(x.shape[0] % (nwy * nwx) === 0, name, `${x.shape[0]} windows is not a multiple of the ${nwy}×${nwx} windows of a ${height}×${width} map`);
  return { win, b: x.shape[0] / (nwy * nwx), c: x.shape[3], nwy, nwx };
}

/**
 * x [B·nwy·nwx, w, w, C] -> out [B, H, W, C] (rank 4), cropping the bottom/right padding. The window
 * side comes from x (after a q-pool it is the pooled window w/2, and H, W the pooled map).
 */
export function windowUnpartitionProgram(x: GpuTensor, height: number, width: number, out: GpuTensor): KernelProgram {
  const name = `window-unpartition-${x.dtype}`;
  const { win, b, c, nwy, nwx } = unpartitionDims(x, height, width, name);
  const total = b * height * width * c;
  check(out.size === total && out.dtype === x.dtype, name, `out ${shapeStr(out.shape)} must hold [${b}, ${height}, ${width}, ${c}] ${x.dtype}`);
  check(out.buffer !== x.buffer, name, 'out must not share a buffer with x');
  return {
    name,
    source: () => windowUnpartitionSource(x.dtype),
    constants: { WG },
    bindings: [x, out],
    uniforms: uniforms([['u32', total], ['u32', c], ['u32', height], ['u32', width], ['u32', win], ['u32', nwx], ['u32', nwy]]),
    workgroups: dispatch1d(total, WG),
    bytes: total * 8,
  };
}

export function windowUnpartition(gpu: Gpu, x: GpuTensor, height: number, width: number, out?: GpuTensor): GpuTensor {
  const { b, c } = unpartitionDims(x, height, width, `window-unpartition-${x.dtype}`);
  const o = out ?? gpu.empty([b, height, width, c], x.dtype, 'unwindowed');
  gpu.run(windowUnpartitionProgram(x, height, width, o));
  return o;
}

/**
 * Which pixels max-pool reads: `channels` channels from element `offset` of each pixel, pixels
 * `pixelStride` apart in row-major [H, W] order, batch items `batchStride` apart. Default: the
 * whole contiguous map. E.g. the q slice of a fused qkv [N, w, w, 3C]: offset 0, pixelStride 3C.
 */
export interface PixelView {
  batch: number;
  height: number;
  width: number;
  channels: number;
  offset?: number;
  pixelStride?: number;
  batchStride?: number;
}

/** out [B, floor(H/2), floor(W/2), C] = MaxPool2d(2, 2) of x (NHWC, or a PixelView of it). */
export function maxPool2x2Program(x: GpuTensor, out: GpuTensor, view?: PixelView): KernelProgram {
  const name = `maxpool2x2-nhwc-${x.dtype}`;
  const [b, h, w, c] = view ? [view.batch, view.height, view.width, view.channels] : dims4(x, name);
  for (const [what, v] of [['batch', b], ['height', h], ['width', w], ['channels', c]] as const) positive(name, what, v);
  check(h >= 2 && w >= 2, name, `a ${h}×${w} map is too small for a 2×2 pool`);
  const offset = view?.offset ?? 0;
  const pixel = view?.pixelStride ?? c;
  const batch = view?.batchStride ?? h * w * pixel;
  check(pixel >= c, name, `pixelStride ${pixel} is smaller than the ${c} channels read`);
  const last = offset + (b - 1) * batch + (h * w - 1) * pixel + c;
  check(last <= x.size, name, `the pixel view reaches element ${last} but x ${shapeStr(x.shape)} has ${x.size}`);
  const ho = Math.floor(h / 2);
  const wo = Math.floor(w / 2);
  const total = b * ho * wo * c;
  check(out.size === total && out.dtype === x.dtype, name, `out ${shapeStr(out.shape)} must hold [${b}, ${ho}, ${wo}, ${c}] ${x.dtype}`);
  check(out.buffer !== x.buffer, name, 'out must not share a buffer with x');
  return {
    name,
    source: () => maxPool2x2Source(x.dtype),
    constants: { WG },
    bindings: [x, out],
    uniforms: uniforms([['u32', total], ['u32', c], ['u32', w], ['u32', ho], ['u32', wo], ['u32', offset], ['u32', pixel], ['u32', batch]]),
    workgroups: dispatch1d(total, WG),
    flops: 3 * total,
    bytes: total * 5 * 4,
  };
}

export function maxPool2x2(gpu: Gpu, x: GpuTensor, out?: GpuTensor, view?: PixelView): GpuTensor {
  const [b, h, w, c] = view ? [view.batch, view.height, view.width, view.channels] : dims4(x, 'maxpool2x2');
  const o = out ?? gpu.empty([b, Math.floor(h / 2), Math.floor(w / 2), c], x.dtype, 'pooled');
  gpu.run(maxPool2x2Program(x, o, view));
  return o;
}

/** out [B, S, R] = transpose of x [B, R, S] (batched); `op` names the caller in errors. */
function transposeProgram(op: string, x: GpuTensor, batch: number, r: number, s: number, out: GpuTensor): KernelProgram {
  const name = `transpose-batched-${x.dtype}`;
  const total = batch * r * s;
  check(out.size === total && out.dtype === x.dtype, op, `out ${shapeStr(out.shape)} does not hold the ${total} ${x.dtype} elements of x ${shapeStr(x.shape)}`);
  check(out.buffer !== x.buffer, op, 'out must not share a buffer with x');
  return {
    name,
    source: () => transposeSource(x.dtype),
    constants: { WG },
    bindings: [x, out],
    uniforms: uniforms([['u32', total], ['u32', r], ['u32', s], ['u32', 0]]),
    workgroups: dispatch1d(total, WG),
    bytes: total * 8,
  };
}

/** [B?, C, H, W] -> [B?, H, W, C] (same rank). */
export function nchwToNhwcProgram(x: GpuTensor, out: GpuTensor): KernelProgram {
  const op = 'nchwToNhwc';
  const [b, c, h, w] = dims4(x, op, 'C, H, W');
  return transposeProgram(op, x, b, c, h * w, out);
}

/** [B?, H, W, C] -> [B?, C, H, W] (same rank). */
export function nhwcToNchwProgram(x: GpuTensor, out: GpuTensor): KernelProgram {
  const op = 'nhwcToNchw';
  const [b, h, w, c] = dims4(x, op);
  return transposeProgram(op, x, b, h * w, c, out);
}

export function nchwToNhwc(gpu: Gpu, x: GpuTensor, out?: GpuTensor): GpuTensor {
  dims4(x, 'nchwToNhwc', 'C, H, W');
  const lead = x.shape.length === 4 ? [x.shape[0]] : [];
  const [c, h, w] = x.shape.slice(-3);
  const o = out ?? gpu.empty([...lead, h, w, c], x.dtype, 'nhwc');
  gpu.run(nchwToNhwcProgram(x, o));
  return o;
}

export function nhwcToNchw(gpu: Gpu, x: GpuTensor, out?: GpuTensor): GpuTensor {
  dims4(x, 'nhwcToNchw');
  const lead = x.shape.length === 4 ? [x.shape[0]] : [];
  const [h, w, c] = x.shape.slice(-3);
  const o = out ?? gpu.empty([...lead, c, h, w], x.dtype, 'nchw');
  gpu.run(nhwcToNchwProgram(x, o));
  return o;
}
