// Launchers for 2-D convolution on channels-last maps ([H, W, C] or [B, H, W, C]) with PyTorch
// Conv2d weights [Cout, Cin/groups, kh, kw] and a bias [Cout]: groups = 1 (direct kernel) or
// groups = C (depthwise kernel). 1x1 convolutions are plain `linear` GEMMs and do not come here.
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, MAX_WORKGROUPS_PER_DIM, type KernelProgram } from '../program.js';
import { isPacked, type WeightOperand } from '../packed-weight/packed-weight.js';
import { weightSeam } from '../packed-weight/packed-weight.wgsl.js';
import { CONV_PX, conv2dDepthwiseSource, conv2dDirectSource } from './conv.wgsl.js';

const WG = 64;

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

/** Workgroup grid for `blocks` pixel blocks (x, folded over z) times `channelBlocks` (y). */
export function pixelChannelGrid(blocks: number, channelBlocks: number, kernel: string): [number, number, number] {
  const groups = Math.max(1, Math.ceil(blocks / WG));
  const z = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  check(channelBlocks <= MAX_WORKGROUPS_PER_DIM, kernel, `${channelBlocks} channel blocks exceed the workgroup grid`);
  return [Math.ceil(groups / z), channelBlocks, z];
}

/**
 * The conv program. `weight` is a float tensor of x's dtype, or (dense convs only) a PackedWeight
 * whose [Cout, Cin·kh·kw] matrix the kernel dequantizes in registers.
 */
export function conv2dProgram(x: GpuTensor, weight: WeightOperand, bias: GpuTensor, out: GpuTensor, opts: Conv2dOptions = {}): KernelProgram {
  const g = conv2dGeometry(x.shape, weight.shape, opts);
  const depthwise = g.groups !== 1;
  const packed = isPacked(weight) ? weight : null;
  const name = `conv2d-${depthwise ? 'depthwise' : 'direct'}-${x.dtype}${packed ? `-w${packed.format}` : ''}`;
  check(!packed || !depthwise, name, 'depthwise convs take float weights only');
  check((packed || (weight as GpuTensor).dtype === x.dtype) && bias.dtype === x.dtype && out.dtype === x.dtype, name, 'dtypes differ');
  check(bias.size === g.cout, name, `bias ${shapeStr(bias.shape)} does not have ${g.cout} values`);
  const outShape = conv2dOutputShape(x.shape, weight.shape, opts);
  check(out.size === outShape.reduce((a, b) => a * b, 1), name, `out ${shapeStr(out.shape)} does not match ${shapeStr(outShape)}`);
  const act = opts.activation ?? 'none';
  check(act === 'none' || act === 'gelu', name, `unknown activation ${act}`);

  const pxBlocks = Math.ceil(g.outW / CONV_PX);
  const nBlocks = g.batch * g.outH * pxBlocks;
  // Few output channels (mask downsampler's 1 -> 4, prompt mask 1 -> 1) take one vec4 per
  // invocation; everything else four (16 channels), which keeps the accumulators in registers.
  const ocv = depthwise ? 1 : g.cout <= 4 ? 1 : 4;
  const channelBlocks = Math.ceil(g.cout / (4 * ocv));
  const macs = g.batch * g.outH * g.outW * g.cout * g.kh * g.kw * (depthwise ? 1 : g.cin);
  return {
    name,
    source: () => (depthwise ? conv2dDepthwiseSource(x.dtype) : packed ? conv2dDirectSource(x.dtype, weightSeam(packed.format, 1)) : conv2dDirectSource(x.dtype)),
    constants: depthwise ? { WG, ACT: act === 'gelu' ? 1 : 0 } : { WG, OCV: ocv, ACT: act === 'gelu' ? 1 : 0 },
    bindings: [x, packed ? packed.data : (weight as GpuTensor), bias, out],
    uniforms: uniforms([
      ['u32', g.inH], ['u32', g.inW], ['u32', g.cin], ['u32', g.outH],
      ['u32', g.outW], ['u32', g.cout], ['u32', g.kh], ['u32', g.kw],
      ['u32', g.strideY], ['u32', g.strideX], ['u32', g.padY], ['u32', g.padX],
      ['u32', pxBlocks], ['u32', nBlocks], ['u32', packed?.scaleOffset ?? 0], ['u32', packed?.group ?? 0],
    ]),
    workgroups: pixelChannelGrid(nBlocks, channelBlocks, name),
    flops: 2 * macs,
    bytes: (x.size + bias.size + out.size) * (x.dtype === 'f16' ? 2 : 4) + (packed ? packed.byteLength : (weight as GpuTensor).byteLength),
  };
}

/** NHWC conv2d with bias (and optional fused GELU); allocates the output unless `out` is given. */
export function conv2d(
  gpu: Gpu,
  x: GpuTensor,
  weight: WeightOperand,
  bias: GpuTensor,
  opts: Conv2dOptions = {},
  out?: GpuTensor,
): GpuTensor {
  const o = out ?? gpu.empty(conv2dOutputShape(x.shape, weight.shape, opts), x.dtype, 'conv2d');
  gpu.run(conv2dProgram(x, weight, bias, o, opts));
  return o;
}
