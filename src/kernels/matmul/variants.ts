// The GEMM op family: every variant, the tuned-cache bucket and the default choice per adapter.
import { sizeBucket, type OpFamily } from '../registry.js';
import type { GemmSpec } from './gemm-spec.js';
import { regblockVariant } from './regblock.js';

export const GEMM_FAMILY: OpFamily<GemmSpec> = {
  op: 'matmul',
  variants: [regblockVariant],
  bucket: (s) =>
    `${s.layout}-${s.a.dtype}${s.bPacked ? `-w${s.bPacked.format}` : ''}-b${sizeBucket(s.batch)}-m${sizeBucket(s.m)}-n${sizeBucket(s.n)}-k${sizeBucket(s.k)}`,
  heuristic: () => 'matmul-regblock',
};
