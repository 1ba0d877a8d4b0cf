// The attention op family: every variant, the tuned-cache bucket and the default choice per adapter.
import { sizeBucket, type OpFamily } from '../registry.js';
import { addressMode, type AttentionSpec } from './attention-spec.js';
import { flashSplitKvVariant, flashVariant } from './flash.js';
import { streamingVariant } from './streaming.js';

/** Below this many (batch · head · 32-row query tile) workgroups a GPU is under-filled: split the keys. */
const SPLIT_BELOW_WORKGROUPS = 128;
/** ... provided each of at least 2 splits keeps 4 tiles of 32 keys. */
const SPLIT_MIN_KEYS = 256;

export const ATTENTION_FAMILY: OpFamily<AttentionSpec> = {
  op: 'attention',
  variants: [streamingVariant, flashVariant, flashSplitKvVariant],
  bucket: (s) =>
    `${addressMode(s)}-${s.dtype}-bh${sizeBucket(s.batch * s.heads)}-q${sizeBucket(s.nq)}-k${sizeBucket(s.nk)}-d${sizeBucket(s.headDim)}-v${sizeBucket(s.vHeadDim)}`,
  heuristic: (s, t) => {
    // CPU adapters: no workgroup memory, no barriers (both are slow in software).
    if (t.kind === 'cpu') return 'attention-streaming';
    if (!flashVariant.supports(s, t)) return 'attention-streaming';
    const tiles = s.batch * s.heads * Math.ceil(s.nq / 32);
    if (!s.window && tiles < SPLIT_BELOW_WORKGROUPS && s.nk >= SPLIT_MIN_KEYS && flashSplitKvVariant.supports(s, t)) return 'attention-flash-splitkv';
    return 'attention-flash';
  },
};
