// Launcher for ConvTranspose2d(kernel 2, stride 2, no padding) on channels-last maps, with an
// optional fused skip add: the mask decoder's output_upscaling adds the high-res features right
// after each transposed conv (spec §2.7: `ConvT(x) + feat_s1`, `ConvT(U1) + feat_s0`). With a
// batch of maps the skip may be one map shared by every item (several objects decoded on one slice).
// Weight in PyTorch layout [Cin, Cout, 2, 2], bias [Cout].
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, type KernelProgram } from '../program.js';
import { nhwc, pixelChannelGrid } from './conv-spec.js';
import { CONV_PX, convTranspose2x2Source } from './conv.wgsl.js';

const WG = 64;

/** [.., 2H, 2W, Cout] for input [.., H, W, Cin] and weight [Cin, Cout, 2, 2]. */
export function convTranspose2x2OutputShape(xShape: readonly number[], wShape: readonly number[]): number[] {
  const kernel = 'conv-transpose2x2';
  const [, h, w, cin] = nhwc(xShape, kernel, 'input');
  check(wShape.length === 4 && wShape[2] === 2 && wShape[3] === 2, kernel, `weight must be [Cin, Cout, 2, 2], got ${shapeStr(wShape)}`);
  check(wShape[0] === cin, kernel, `weight ${shapeStr(wShape)} expects ${wShape[0]} input channels, input ${shapeStr(xShape)} has ${cin}`);
  const cout = wShape[1];
  return xShape.length === 3 ? [2 * h, 2 * w, cout] : [xShape[0], 2 * h, 2 * w, cout];
}

export function convTranspose2x2Program(x: GpuTensor, weight: GpuTensor, bias: GpuTensor, out: GpuTensor, skip?: GpuTensor): KernelProgram {
  const outShape = convTranspose2x2OutputShape(x.shape, weight.shape);
  const [batch, h, w, cin] = nhwc(x.shape, 'conv-transpose2x2', 'input');
  const cout = weight.shape[1];
  const name = `conv-transpose2x2-${skip ? 'skip' : 'plain'}-${x.dtype}`;
  check(weight.dtype === x.dtype && bias.dtype === x.dtype && out.dtype === x.dtype, name, 'dtypes differ');
  check(bias.size === cout, name, `bias ${shapeStr(bias.shape)} does not have ${cout} values`);
  const outSize = outShape.reduce((a, b) => a * b, 1);
  check(out.size === outSize, name, `out ${shapeStr(out.shape)} does not match ${shapeStr(outShape)}`);
  if (skip) {
    check(skip.dtype === x.dtype, name, 'skip dtype differs');
    check(skip.size === outSize || skip.size * batch === outSize, name,
      `skip ${shapeStr(skip.shape)} matches neither the output ${shapeStr(outShape)} nor one of its ${batch} maps`);
  }
  const nPix = batch * h * w;
  const nBlocks = Math.ceil(nPix / CONV_PX);
  return {
    name,
    source: () => convTranspose2x2Source(x.dtype, !!skip),
    constants: { WG },
    bindings: skip ? [x, weight, bias, skip, out] : [x, weight, bias, out],
    uniforms: uniforms([
      ['u32', h], ['u32', w], ['u32', cin], ['u32', cout],
      ['u32', nPix], ['u32', nBlocks], ['u32', skip ? skip.size : 0], ['u32', 0],
    ]),
    workgroups: pixelChannelGrid(nBlocks, Math.ceil(cout / 4), name),
    flops: 2 * nPix * cin * cout * 4 + (skip ? outSize : 0),
    bytes: (x.size + weight.size + bias.size + outSize * (skip ? 2 : 1)) * 4,
  };
}

/** ConvTranspose2d k2/s2 (+ skip when given); allocates the output unless `out` is given. */
export function convTranspose2x2(
  gpu: Gpu,
  x: GpuTensor,
  weight: GpuTensor,
  bias: GpuTensor,
  skip?: GpuTensor,
  out?: GpuTensor,
): GpuTensor {
  const o = out ?? gpu.empty(convTranspose2x2OutputShape(x.shape, weight.shape), x.dtype, 'conv-transpose2x2');
  gpu.run(convTranspose2x2Program(x, weight, bias, o, skip));
  return o;
}
