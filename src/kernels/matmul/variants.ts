// The GEMM op family: every variant, the tuned-cache bucket and the default choice per adapter.
//   CPU adapters (lavapipe, SwiftShader): matmul-regblock, always (barriers and workgroup memory
//     are slow there).
//   GPUs: matmul-tiled with a config chosen from M, N, K (tiled.ts), except a handful of rows
//     (decoder tokens, M ≤ 8) where matmul-subgroup keeps every lane busy on one 8-row block with
//     no barriers. matmul-sgmat is never a default (see sgmat.ts).
import { sizeBucket, type OpFamily } from '../registry.js';
import { gemmDtypeTag, type GemmSpec } from './gemm-spec.js';
import { regblockVariant } from './regblock.js';
import { sgmatVariant } from './sgmat.js';
import { subgroupVariant } from './subgroup.js';
import { tiledVariant } from './tiled.js';

export const GEMM_FAMILY: OpFamily<GemmSpec> = {
  op: 'matmul',
  variants: [regblockVariant, tiledVariant, subgroupVariant, sgmatVariant],
  bucket: (s) =>
    `${s.layout}-${gemmDtypeTag(s)}-b${sizeBucket(s.batch)}-m${sizeBucket(s.m)}-n${sizeBucket(s.n)}-k${sizeBucket(s.k)}`,
  heuristic: (s, t) => {
    if (t.kind === 'cpu') return regblockVariant.id;
    if (s.m <= 8 && subgroupVariant.supports(s, t)) return subgroupVariant.id;
    return tiledVariant.supports(s, t) ? tiledVariant.id : regblockVariant.id;
  },
};
