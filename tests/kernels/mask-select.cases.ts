import { copyRange } from '../../src/kernels/mask-select/mask-select.js';
import { rangeCopyRef } from '../../src/kernels/mask-select/mask-select.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

// Copies are exact: any difference is a bug, so the tolerance is 0. The destination keeps a
// non-NaN background outside the written range (checked too), the range itself starts as NaN.
const copyCase = (n: number, m: number, srcOffset: number, dstOffset: number, count: number, fill?: number): KernelCase => ({
  name: `copy src=${n}@${srcOffset} dst=${m}@${dstOffset} count=${count}${fill === undefined ? '' : ` fill=${fill}`}`,
  async run(gpu) {
    const src = randomArray(n, n + srcOffset, -40, 40);
    const dst = randomArray(m, m + 5, 50, 60);
    dst.fill(Number.NaN, dstOffset, dstOffset + count);
    const ts = gpu.upload(src, [n]);
    const td = gpu.upload(dst, [m]);
    copyRange(gpu, ts, td, { srcOffset, dstOffset, count, fill });
    assertClose('copy', await gpu.read(td), rangeCopyRef(src, dst, srcOffset, dstOffset, count, fill), { atol: 0 });
    [ts, td].forEach((t) => t.release());
  },
});

export const cases: KernelCase[] = [
  copyCase(1, 1, 0, 0, 1),
  copyCase(4, 3, 1, 0, 3),
  copyCase(41, 4 * 33, 5, 2 * 33, 33),
  copyCase(4 * 4097, 3 * 4097, 4097, 1, 2 * 4097),
  copyCase(1000, 700, 3, 11, 513, -1024),
  // SAM 2 tiny @1024: one 256x256 mask out of the 4 stacked candidates.
  copyCase(4 * 65536, 65536, 2 * 65536, 0, 65536),
];
