// Every CONV variant forced in turn over the conv cases (odd sizes, every border, batch, GELU, the
// real SAM 2 shapes) against conv.ref.ts. conv-igemm does not take depthwise convs: those cases
// fall back to conv-direct (counted by the selector) and the suite checks igemm ran elsewhere.
// Each igemm tile config runs on the patch-embed and downsampler geometries. Packed weights
// (conv-packed.cases.ts) run through conv-igemm's dequantizing seam too (conv-direct runs them
// unforced in conv-packed.test.ts on CPU adapters).
import { CONV_FAMILY } from '../../src/kernels/conv/variants.js';
import { IGEMM_CONFIGS } from '../../src/kernels/conv/igemm.js';
import { cfgKey } from '../../src/kernels/registry.js';
import { defineVariantTests } from '../helpers/define-variant-tests.js';
import { cases } from './conv.cases.js';
import { cases as packedCases } from './conv-packed.cases.js';

defineVariantTests(CONV_FAMILY, cases);
defineVariantTests(CONV_FAMILY, cases.slice(0, 2), IGEMM_CONFIGS.map((cfg) => ({ id: 'conv-igemm', cfg, label: cfgKey(cfg) })));
defineVariantTests(CONV_FAMILY, packedCases, [{ id: 'conv-igemm', label: 'packed' }]);
