// One 2-D convolution launch as every variant of the CONV family sees it: channels-last input and
// output ([H, W, C] or [B, H, W, C]), PyTorch Conv2d weight [Cout, Cin/groups, kh, kw], bias [Cout],
// groups 1 or depthwise, optional fused GELU. Also the geometry helpers the conv kernels share.
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { check, MAX_WORKGROUPS_PER_DIM } from '../program.js';
import { isPacked, type PackedWeight, type WeightOperand } from '../packed-weight/packed-weight.js';

export type ConvActivation = 'none' | 'gelu';

export interface Conv2dOptions {
  /** Stride, one value or [sy, sx]. Default 1. */
  stride?: number | readonly [number, number];
  /** Zero padding on each side, one value or [py, px]. Default 0. */
  padding?: number | readonly [number, number];
  /** 1 (dense) or the channel count (depthwise). Default 1. */
  groups?: number;
  /** Fused activation after the bias. Default 'none'. */
  activation?: ConvActivation;
}

export interface Conv2dGeometry {
  batch: number;
  inH: number;
  inW: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  strideY: number;
  strideX: number;
  padY: number;
  padX: number;
  outH: number;
  outW: number;
  groups: number;
}

export interface ConvSpec {
  x: GpuTensor;
  /** A float tensor of x's dtype, or (dense convs) a packed weight read through the dequantizing seam. */
  weight: WeightOperand;
  bias: GpuTensor;
  out: GpuTensor;
  g: Conv2dGeometry;
  act: ConvActivation;
}

const pair = (v: number | readonly [number, number] | undefined, dflt: number): [number, number] =>
  v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** Splits an NHWC shape ([H, W, C] or [B, H, W, C]) into [B, H, W, C]. */
export function nhwc(shape: readonly number[], kernel: string, what: string): [number, number, number, number] {
  check(shape.length === 3 || shape.length === 4, kernel, `${what} must be [H, W, C] or [B, H, W, C], got ${shapeStr(shape)}`);
  return shape.length === 3 ? [1, shape[0], shape[1], shape[2]] : [shape[0], shape[1], shape[2], shape[3]];
}

/** Validates a conv's shapes and options and returns its geometry (PyTorch output size rule). */
export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions = {}): Conv2dGeometry {
  const kernel = 'conv2d';
  const [batch, inH, inW, cin] = nhwc(xShape, kernel, 'input');
  check(wShape.length === 4, kernel, `weight must be [Cout, Cin/groups, kh, kw], got ${shapeStr(wShape)}`);
  const [cout, cinPerGroup, kh, kw] = wShape;
  const [strideY, strideX] = pair(opts.stride, 1);
  const [padY, padX] = pair(opts.padding, 0);
  const groups = opts.groups ?? 1;
  for (const v of [strideY, strideX]) check(Number.isInteger(v) && v >= 1, kernel, `stride must be a positive integer, got ${v}`);
  for (const v of [padY, padX]) check(Number.isInteger(v) && v >= 0, kernel, `padding must be a non-negative integer, got ${v}`);
  check(kh >= 1 && kw >= 1 && cout >= 1 && cin >= 1, kernel, `empty weight ${shapeStr(wShape)} or input ${shapeStr(xShape)}`);
  if (groups === 1) {
    check(cinPerGroup === cin, kernel, `weight ${shapeStr(wShape)} expects ${cinPerGroup} input channels, input ${shapeStr(xShape)} has ${cin}`);
  } else {
    check(groups === cin && cout === cin && cinPerGroup === 1, kernel,
      `only groups = 1 or depthwise (groups = Cin = Cout, weight [C, 1, kh, kw]) are supported; got groups=${groups}, ` +
      `input ${shapeStr(xShape)}, weight ${shapeStr(wShape)}`);
  }
  const outH = Math.floor((inH + 2 * padY - kh) / strideY) + 1;
  const outW = Math.floor((inW + 2 * padX - kw) / strideX) + 1;
  check(outH >= 1 && outW >= 1, kernel, `kernel ${kh}x${kw} does not fit input ${inH}x${inW} with padding ${padY},${padX}`);
  return { batch, inH, inW, cin, cout, kh, kw, strideY, strideX, padY, padX, outH, outW, groups };
}

/** Output shape with the same rank as the input. */
export function conv2dOutputShape(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions = {}): number[] {
  const g = conv2dGeometry(xShape, wShape, opts);
  return xShape.length === 3 ? [g.outH, g.outW, g.cout] : [g.batch, g.outH, g.outW, g.cout];
}

/** Validates a conv launch (shapes, dtypes, bias, output, activation) into a ConvSpec. */
export function conv2dSpec(x: GpuTensor, weight: WeightOperand, bias: GpuTensor, out: GpuTensor, opts: Conv2dOptions = {}): ConvSpec {
  const g = conv2dGeometry(x.shape, weight.shape, opts);
  const name = 'conv2d';
  check(x.dtype === 'f32' || x.dtype === 'f16', name, `unsupported dtype ${x.dtype}`);
  const packed = isPacked(weight);
  check(!packed || g.groups === 1, name, 'depthwise convs take float weights only');
  const wType = packed ? `packed ${weight.format}` : weight.dtype;
  check((packed || weight.dtype === x.dtype) && bias.dtype === x.dtype && out.dtype === x.dtype, name,
    `dtypes differ: x ${x.dtype}, weight ${wType}, bias ${bias.dtype}, out ${out.dtype}`);
  check(bias.size === g.cout, name, `bias ${shapeStr(bias.shape)} does not have ${g.cout} values`);
  const outShape = conv2dOutputShape(x.shape, weight.shape, opts);
  check(out.size === outShape.reduce((a, b) => a * b, 1), name, `out ${shapeStr(out.shape)} does not match ${shapeStr(outShape)}`);
  const wBuffer = packed ? weight.data.buffer : weight.buffer;
  check(out.buffer !== x.buffer && out.buffer !== wBuffer && out.buffer !== bias.buffer, name, 'out aliases an input');
  const act = opts.activation ?? 'none';
  check(act === 'none' || act === 'gelu', name, `unknown activation ${act}`);
  return { x, weight, bias, out, g, act };
}

export function convFlops(s: ConvSpec): number {
  const g = s.g;
  return 2 * g.batch * g.outH * g.outW * g.cout * g.kh * g.kw * (g.groups === 1 ? g.cin : 1);
}

export function convBytes(s: ConvSpec): number {
  const e = s.x.dtype === 'f16' ? 2 : 4;
  return e * (s.x.size + s.bias.size + s.out.size) + s.weight.byteLength;
}

/** The packed weight of a spec, or null for float weights. */
export function convPacked(s: ConvSpec): PackedWeight | null {
  return isPacked(s.weight) ? s.weight : null;
}

/** Binding 1 of every conv kernel: the float weight, or a packed weight's words. */
export function convWeightBinding(s: ConvSpec): GpuTensor {
  return isPacked(s.weight) ? s.weight.data : s.weight;
}

const PIXEL_WG = 64;

/** Workgroup grid for `blocks` pixel blocks of 64-lane workgroups (x, folded over z) times `channelBlocks` (y). */
export function pixelChannelGrid(blocks: number, channelBlocks: number, kernel: string): [number, number, number] {
  const groups = Math.max(1, Math.ceil(blocks / PIXEL_WG));
  const z = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  check(channelBlocks <= MAX_WORKGROUPS_PER_DIM, kernel, `${channelBlocks} channel blocks exceed the workgroup grid`);
  return [Math.ceil(groups / z), channelBlocks, z];
}
