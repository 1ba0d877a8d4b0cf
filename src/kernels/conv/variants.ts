// The CONV op family (dense and depthwise 2-D convolution, channels-last): conv-direct on CPU
// adapters and for depthwise convs, conv-igemm (tiled implicit GEMM) for dense convs on GPUs.
import { isPacked } from '../packed-weight/packed-weight.js';
import { sizeBucket, type OpFamily } from '../registry.js';
import type { ConvSpec } from './conv-spec.js';
import { directVariant } from './direct.js';
import { igemmVariant } from './igemm.js';

export const CONV_FAMILY: OpFamily<ConvSpec> = {
  op: 'conv',
  variants: [directVariant, igemmVariant],
  bucket: ({ g, x, weight }) =>
    `${g.groups === 1 ? 'dense' : 'dw'}-${x.dtype}${isPacked(weight) ? `-w${weight.format}` : ''}-k${g.kh}x${g.kw}s${g.strideY}x${g.strideX}-cin${sizeBucket(g.cin)}-cout${sizeBucket(g.cout)}-px${sizeBucket(g.batch * g.outH * g.outW)}`,
  heuristic: (s, t) => (t.kind === 'gpu' && igemmVariant.supports(s, t) ? igemmVariant.id : directVariant.id),
};
