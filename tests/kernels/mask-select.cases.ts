import { copyRange, maskStats } from '../../src/kernels/mask-select/mask-select.js';
import { rangeCopyRef, thresholdCountsRef } from '../../src/kernels/mask-select/mask-select.ref.js';
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

// Counts are integers (exact); the pass-through scalars are bit copies (exact).
const statsCase = (n: number, offset: number, count: number, na: number, nb: number): KernelCase => ({
  name: `stats n=${n} offset=${offset} count=${count} a=${na} b=${nb}`,
  async run(gpu) {
    // Values concentrated around ±0.05 so that the strict comparisons matter; include exact hits.
    const src = randomArray(n, 7 * n + 1, -0.2, 0.2);
    for (let i = 0; i < n; i += 97) src[i] = Math.fround(0.05);
    for (let i = 5; i < n; i += 89) src[i] = Math.fround(-0.05);
    const a = randomArray(na, 11, -1, 1);
    const b = randomArray(nb, 13, -3, 3);
    const [tm, ta, tb] = [gpu.upload(src, [n]), gpu.upload(a, [na]), gpu.upload(b, [nb])];
    const words = 2 + na + nb + 1;
    const out = gpu.upload(new Uint32Array(words).fill(0xdeadbeef), [words], 'u32');
    maskStats(gpu, { map: tm, mapOffset: offset, mapCount: count, hi: 0.05, lo: -0.05, a: ta, b: tb }, out);
    const raw = await gpu.readRaw(out);
    const u = new Uint32Array(raw);
    const f = new Float32Array(raw);
    const [hi, lo] = thresholdCountsRef(src, offset, count, 0.05, -0.05);
    if (u[0] !== hi || u[1] !== lo) throw new Error(`stats: counts (${u[0]}, ${u[1]}), expected (${hi}, ${lo})`);
    assertClose('stats.a', f.subarray(2, 2 + na), Float64Array.from(a), { atol: 0 });
    assertClose('stats.b', f.subarray(2 + na, 2 + na + nb), Float64Array.from(b), { atol: 0 });
    if (u[words - 1] !== 0xdeadbeef) throw new Error('stats: wrote past the packet');
    [tm, ta, tb, out].forEach((t) => t.release());
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
  statsCase(1, 0, 1, 1, 1),
  statsCase(3 * 1000 + 7, 1000, 1003, 4, 1),
  statsCase(4 * 4096, 0, 4096, 4, 1),
  statsCase(4 * 65536, 0, 65536, 4, 1),
  statsCase(100, 0, 0, 4, 1),
];
