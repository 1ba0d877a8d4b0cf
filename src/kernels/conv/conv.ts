// Launchers for 2-D convolution on channels-last maps ([H, W, C] or [B, H, W, C]) with PyTorch
// Conv2d weights [Cout, Cin/groups, kh, kw] and a bias [Cout]: groups = 1 or groups = C
// (depthwise). A launcher validates into a ConvSpec (conv-spec.ts) and `gpu.runOp(CONV_FAMILY, …)`
// runs the variant the selector picks (variants.ts): the direct kernels on CPU adapters, tiled
// implicit GEMM for dense convs on GPUs. 1x1 convolutions are plain `linear` GEMMs and do not come here.
import type { Gpu } from '../../runtime/gpu.js';
import type { GpuTensor } from '../../runtime/tensor.js';
import type { KernelProgram } from '../program.js';
import type { WeightOperand } from '../packed-weight/packed-weight.js';
import { conv2dOutputShape, conv2dSpec, type Conv2dOptions } from './conv-spec.js';
import { directProgram } from './direct.js';
import { CONV_FAMILY } from './variants.js';

export {
  conv2dGeometry,
  conv2dOutputShape,
  conv2dSpec,
  nhwc,
  pixelChannelGrid,
  type Conv2dGeometry,
  type Conv2dOptions,
  type ConvActivation,
  type ConvSpec,
} from './conv-spec.js';

/**
 * The direct/depthwise program of a conv (pure: no adapter needed; tests inspect it). `weight` is a
 * float tensor of x's dtype, or (dense convs only) a PackedWeight whose [Cout, Cin·kh·kw] matrix
 * the kernel dequantizes in registers.
 */
export function conv2dProgram(x: GpuTensor, weight: WeightOperand, bias: GpuTensor, out: GpuTensor, opts: Conv2dOptions = {}): KernelProgram {
  return directProgram(conv2dSpec(x, weight, bias, out, opts));
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
  gpu.runOp(CONV_FAMILY, conv2dSpec(x, weight, bias, o, opts));
  return o;
}
