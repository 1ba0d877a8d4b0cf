// Variant `conv-direct`: the direct and depthwise kernels of conv.wgsl.ts (no workgroup memory,
// weights uniform per workgroup). The default on CPU adapters and the only variant for depthwise.
// Dense convs also take packed weights (f16/bf16/int8/int4) through the dequantizing seam w_at.
import { uniforms } from '../../runtime/uniforms.js';
import type { KernelProgram } from '../program.js';
import type { KernelVariant } from '../registry.js';
import { weightSeam } from '../packed-weight/packed-weight.wgsl.js';
import { convBytes, convFlops, convPacked, convWeightBinding, pixelChannelGrid, type ConvSpec } from './conv-spec.js';
import { CONV_PX, conv2dDepthwiseSource, conv2dDirectSource } from './conv.wgsl.js';

const WG = 64;

export function directProgram(s: ConvSpec): KernelProgram {
  const { g, x } = s;
  const depthwise = g.groups !== 1;
  const packed = convPacked(s);
  const name = `conv2d-${depthwise ? 'depthwise' : 'direct'}-${x.dtype}${packed ? `-w${packed.format}` : ''}`;
  const pxBlocks = Math.ceil(g.outW / CONV_PX);
  const nBlocks = g.batch * g.outH * pxBlocks;
  // Few output channels (mask downsampler's 1 -> 4, prompt mask 1 -> 1) take one vec4 per
  // invocation; everything else four (16 channels), which keeps the accumulators in registers.
  const ocv = depthwise ? 1 : g.cout <= 4 ? 1 : 4;
  const channelBlocks = Math.ceil(g.cout / (4 * ocv));
  const act = s.act === 'gelu' ? 1 : 0;
  return {
    name,
    source: () =>
      depthwise ? conv2dDepthwiseSource(x.dtype) : packed ? conv2dDirectSource(x.dtype, weightSeam(packed.format, 1)) : conv2dDirectSource(x.dtype),
    constants: depthwise ? { WG, ACT: act } : { WG, OCV: ocv, ACT: act },
    bindings: [x, convWeightBinding(s), s.bias, s.out],
    uniforms: uniforms([
      ['u32', g.inH], ['u32', g.inW], ['u32', g.cin], ['u32', g.outH],
      ['u32', g.outW], ['u32', g.cout], ['u32', g.kh], ['u32', g.kw],
      ['u32', g.strideY], ['u32', g.strideX], ['u32', g.padY], ['u32', g.padX],
      ['u32', pxBlocks], ['u32', nBlocks], ['u32', packed?.scaleOffset ?? 0], ['u32', packed?.group ?? 0],
    ]),
    workgroups: pixelChannelGrid(nBlocks, channelBlocks, name),
    flops: convFlops(s),
    bytes: convBytes(s),
  };
}

export const directVariant: KernelVariant<ConvSpec> = {
  id: 'conv-direct',
  supports: (s, t) => s.x.dtype === 'f32' || t.f16,
  configs: () => [{}],
  build: (s) => [directProgram(s)],
};
