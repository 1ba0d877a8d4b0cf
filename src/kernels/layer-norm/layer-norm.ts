// Launchers for LayerNorm over the last axis: torch.nn.LayerNorm on tokens [..., C] and SAM 2's
// LayerNorm2d (sam2/modeling/sam2_utils.py) on NHWC maps [..., H, W, C], which is the same op.
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { layerNormScalarSource, layerNormVec4Source, type LayerNormAct } from './layer-norm.wgsl.js';

export type { LayerNormAct };

const WG = 64;

/**
 * out = (x − mean) / sqrt(var + eps) · weight + bias over the last axis of x (biased variance).
 * Hiera and LayerNorm2d use eps 1e-6, the SAM transformers 1e-5 (PyTorch's default): pass it explicitly.
 */
export function layerNormProgram(x: GpuTensor, weight: GpuTensor, bias: GpuTensor, out: GpuTensor, eps: number, act: LayerNormAct = 'none'): KernelProgram {
  check(x.shape.length >= 1, 'layer-norm', `x ${shapeStr(x.shape)} has no channel axis`);
  const c = x.shape[x.shape.length - 1];
  const rows = x.size / Math.max(c, 1);
  const vec4 = c % 4 === 0;
  const name = `layer-norm-rowwise-${vec4 ? 'vec4' : 'scalar'}-${x.dtype}`;
  check(act === 'none' || act === 'gelu', name, `unsupported activation ${act}`);
  check(x.dtype === 'f32' || x.dtype === 'f16', name, `unsupported dtype ${x.dtype}`);
  check(c > 0, name, `x ${shapeStr(x.shape)} has an empty channel axis`);
  check(weight.size === c && bias.size === c, name,
    `weight ${shapeStr(weight.shape)} / bias ${shapeStr(bias.shape)} do not match ${c} channels of x ${shapeStr(x.shape)}`);
  check(weight.dtype === x.dtype && bias.dtype === x.dtype && out.dtype === x.dtype, name, 'dtypes differ');
  check(out.size === x.size, name, `out ${shapeStr(out.shape)} does not match x ${shapeStr(x.shape)}`);
  check(x.buffer !== out.buffer, name, 'out aliases x (in-place LayerNorm is not supported)');
  check(eps > 0, name, `eps must be positive, got ${eps}`);
  return {
    name,
    variant: act === 'none' ? undefined : act,
    source: () => (vec4 ? layerNormVec4Source(x.dtype, act) : layerNormScalarSource(x.dtype, act)),
    constants: { WG },
    bindings: [x, weight, bias, out],
    uniforms: uniforms([['u32', rows], ['u32', c], ['f32', eps], ['u32', 0]]),
    workgroups: dispatch1d(rows, WG),
    flops: (act === 'gelu' ? 30 : 8) * x.size,
    bytes: (x.dtype === 'f16' ? 2 : 4) * (3 * x.size + out.size + 2 * c),
  };
}

/** LayerNorm, optionally followed by an activation in the same launch (`act`, default none). */
export function layerNorm(gpu: Gpu, x: GpuTensor, weight: GpuTensor, bias: GpuTensor, eps: number, out?: GpuTensor, act: LayerNormAct = 'none'): GpuTensor {
  const o = out ?? gpu.empty(x.shape, x.dtype, 'layer-norm');
  gpu.run(layerNormProgram(x, weight, bias, o, eps, act));
  return o;
}
