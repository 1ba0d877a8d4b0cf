// Strided row copy vs its reference. Copies are exact (tolerance 0); the destination starts as a
// non-NaN background with NaN in the rows to be written, so a missed element or a write outside
// the rows both fail.
import { copyRows } from '../../src/kernels/row-copy/row-copy.js';
import { rowCopyRef } from '../../src/kernels/row-copy/row-copy.ref.js';
import { assertClose } from '../helpers/compare.js';
import { readAsF32, roundToF16, uploadAs } from '../helpers/f16.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { randomArray } from '../helpers/random.js';

const rowCase = (n: number, m: number, rows: number, count: number, srcOffset: number, srcStride: number, dstOffset: number, dstStride: number, f16 = false): KernelCase => ({
  name: `rows=${rows}x${count} src=${n}@${srcOffset}+${srcStride} dst=${m}@${dstOffset}+${dstStride}${f16 ? ' f16' : ''}`,
  async run(gpu) {
    if (f16 && !gpu.features.f16) return;
    const dtype = f16 ? 'f16' : 'f32';
    const round = (x: Float32Array) => (f16 ? roundToF16(x) : x);
    const src = round(randomArray(n, n + rows, -40, 40));
    const dst = round(randomArray(m, m + 3, 50, 60));
    for (let r = 0; r < rows; r++) dst.fill(Number.NaN, dstOffset + r * dstStride, dstOffset + r * dstStride + count);
    const ts = uploadAs(gpu, src, [n], dtype);
    const td = uploadAs(gpu, dst, [m], dtype);
    copyRows(gpu, ts, td, { rows, count, srcOffset, srcStride, dstOffset, dstStride });
    assertClose('row-copy', await readAsF32(gpu, td), rowCopyRef(src, dst, rows, count, srcOffset, srcStride, dstOffset, dstStride), { atol: 0 });
    [ts, td].forEach((t) => t.release());
  },
});

export const cases: KernelCase[] = [
  rowCase(1, 1, 1, 1, 0, 1, 0, 1),
  // Gather token 2 of each of 3 objects' 7 tokens × 5 channels.
  rowCase(3 * 7 * 5, 3 * 5, 3, 5, 2 * 5, 7 * 5, 0, 5),
  // Scatter 4 objects' results into column 1 of [4, 3, 9].
  rowCase(4 * 9, 4 * 3 * 9, 4, 9, 0, 9, 9, 3 * 9),
  // Odd strides, rows larger than a workgroup.
  rowCase(5000, 4000, 3, 517, 13, 1201, 7, 1301),
  rowCase(3 * 7 * 5, 3 * 5, 3, 5, 2 * 5, 7 * 5, 0, 5, true),
];
