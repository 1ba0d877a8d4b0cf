// Attention cases once per variant of the family, forced: the CPU default (streaming, RoPE as
// separate dispatches), streaming with RoPE fused and 32 lanes, the GPU kernels (flash, split-KV
// with the default and with uneven 64-key chunks, f16 staging), so every variant is checked on
// lavapipe. The real-shape cases run for the GPU variants only with SAM2_FULL=1 (see
// attention.cases.ts).
import { ATTENTION_FAMILY } from '../../src/kernels/attention/variants.js';
import { defineVariantTests } from '../helpers/define-variant-tests.js';
import { cases, lightCases } from './attention.cases.js';

const full = process.env.SAM2_FULL === '1';
const gpuCases = full ? cases : lightCases;
const some = (re: RegExp) => lightCases.filter((c) => re.test(c.name));
const FLASH_DEFAULT = { BR: 32, BC: 32, WG: 128, DK: 32, KC: 8 };

defineVariantTests(ATTENTION_FAMILY, cases, [{ id: 'attention-streaming' }]);
defineVariantTests(ATTENTION_FAMILY, some(/RoPE|single query|rejects/), [{ id: 'attention-streaming', cfg: { WG: 32, ROPE: 1 }, label: 'WG 32, RoPE fused' }]);
defineVariantTests(ATTENTION_FAMILY, gpuCases, [
  { id: 'attention-flash' },
  { id: 'attention-flash-splitkv' },
  // Uneven key chunks: 2 tiles of 32 keys per split, so nk = 203 splits 64 + 64 + 64 + 11 (same
  // pipelines as the default config: the chunk is a uniform).
  { id: 'attention-flash-splitkv', cfg: { ...FLASH_DEFAULT, KCH: 64 }, label: '64 keys per split' },
]);
defineVariantTests(ATTENTION_FAMILY, some(/peaked|RoPE self|rejects/), [
  { id: 'attention-flash', cfg: { ...FLASH_DEFAULT, S16: 1 }, label: 'f32 staged as f16' },
]);
