// Launchers for the resize kernels on channels-last maps ([H, W, C] or [B, H, W, C]).
// Uses in SAM 2: FpnNeck top-down `lateral + nearest_up2(coarse)`; Hiera's bicubic pos_embed
// (7x7 -> S/4); bilinear low-res mask logits -> S×S and -> video size; antialiased bilinear for mask
// prompts resized to 4F×4F (`_use_mask_as_output`, `add_new_mask`).
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { nhwc } from '../conv/conv.js';
import { antialiasAxis, resizeScale } from './resize-params.js';
import { bicubicSource, bilinearAntialiasSource, bilinearSource, nearestUp2Source, type ResizeMode } from './resize.wgsl.js';

export type { ResizeMode } from './resize.wgsl.js';

const WG = 256;

const withSize = (shape: readonly number[], h: number, w: number): number[] =>
  shape.length === 3 ? [h, w, shape[2]] : [shape[0], h, w, shape[3]];

/** out = (lateral +) nearest_up2(x): [.., H, W, C] -> [.., 2H, 2W, C]. */
export function nearestUp2Program(x: GpuTensor, out: GpuTensor, lateral?: GpuTensor): KernelProgram {
  const name = `resize-nearest2x-${lateral ? 'add' : 'plain'}-${x.dtype}`;
  const [, h, w, c] = nhwc(x.shape, name, 'input');
  const outShape = withSize(x.shape, 2 * h, 2 * w);
  const n = outShape.reduce((a, b) => a * b, 1);
  check(out.dtype === x.dtype && out.size === n, name, `out ${shapeStr(out.shape)} ${out.dtype} does not match ${shapeStr(outShape)} ${x.dtype}`);
  if (lateral) {
    check(lateral.dtype === x.dtype && lateral.size === n, name, `lateral ${shapeStr(lateral.shape)} does not match ${shapeStr(outShape)}`);
  }
  return {
    name,
    source: () => nearestUp2Source(x.dtype, !!lateral),
    constants: { WG },
    bindings: lateral ? [x, lateral, out] : [x, out],
    uniforms: uniforms([['u32', 2 * h], ['u32', 2 * w], ['u32', c], ['u32', n]]),
    workgroups: dispatch1d(n, WG),
    flops: lateral ? n : 0,
    bytes: (x.size + n * (lateral ? 2 : 1)) * 4,
  };
}

export function nearestUp2(gpu: Gpu, x: GpuTensor, lateral?: GpuTensor, out?: GpuTensor): GpuTensor {
  const [, h, w] = nhwc(x.shape, 'resize-nearest2x', 'input');
  const o = out ?? gpu.empty(withSize(x.shape, 2 * h, 2 * w), x.dtype, 'nearest2x');
  gpu.run(nearestUp2Program(x, o, lateral));
  return o;
}

const SOURCES: Record<ResizeMode, typeof bilinearSource> = {
  bilinear: bilinearSource,
  bicubic: bicubicSource,
  'bilinear-aa': bilinearAntialiasSource,
};

/** Taps per output value, for the flop estimate. */
const TAPS_PER_AXIS: Record<ResizeMode, (inSize: number, outSize: number) => number> = {
  bilinear: () => 2,
  bicubic: () => 4,
  'bilinear-aa': (i, o) => Math.ceil(2 * antialiasAxis(i, o).support),
};

/**
 * F.interpolate(x, size=out's H×W, mode, align_corners=False) for mode 'bilinear', 'bicubic', or
 * 'bilinear-aa' (bilinear with antialias=True). The output size comes from `out`'s shape.
 */
export function resizeProgram(mode: ResizeMode, x: GpuTensor, out: GpuTensor): KernelProgram {
  const name = `resize-${mode}-${x.dtype}`;
  check(mode in SOURCES, name, `unknown mode ${mode}`);
  const [batch, inH, inW, c] = nhwc(x.shape, name, 'input');
  const [ob, outH, outW, oc] = nhwc(out.shape, name, 'out');
  check(ob === batch && oc === c && out.dtype === x.dtype, name, `out ${shapeStr(out.shape)} does not match input ${shapeStr(x.shape)} in batch/channels/dtype`);
  check(inH >= 1 && inW >= 1 && outH >= 1 && outW >= 1 && c >= 1, name, `empty input ${shapeStr(x.shape)} or output ${shapeStr(out.shape)}`);
  const ay = antialiasAxis(inH, outH);
  const ax = antialiasAxis(inW, outW);
  const n = out.size;
  const taps = TAPS_PER_AXIS[mode](inH, outH) * TAPS_PER_AXIS[mode](inW, outW);
  return {
    name,
    source: () => SOURCES[mode](x.dtype),
    constants: { WG },
    bindings: [x, out],
    uniforms: uniforms([
      ['u32', inH], ['u32', inW], ['u32', outH], ['u32', outW],
      ['u32', c], ['u32', n], ['u32', 0], ['u32', 0],
      ['f32', resizeScale(inH, outH)], ['f32', resizeScale(inW, outW)], ['f32', ay.support], ['f32', ax.support],
      ['f32', ay.invscale], ['f32', ax.invscale], ['u32', ay.maxTaps], ['u32', ax.maxTaps],
    ]),
    workgroups: dispatch1d(n, WG),
    flops: 2 * n * taps,
    bytes: (x.size + n) * 4,
  };
}

/** Resizes x to [.., outH, outW, C]; allocates the output unless `out` is given. */
export function resize(gpu: Gpu, mode: ResizeMode, x: GpuTensor, size: readonly [number, number], out?: GpuTensor): GpuTensor {
  const [outH, outW] = size;
  check(Number.isInteger(outH) && Number.isInteger(outW) && outH >= 1 && outW >= 1, `resize-${mode}`, `invalid output size ${outH}x${outW}`);
  const o = out ?? gpu.empty(withSize(x.shape, outH, outW), x.dtype, `resize-${mode}`);
  gpu.run(resizeProgram(mode, x, o));
  return o;
}
