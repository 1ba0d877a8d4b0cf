import { attention } from '../../src/kernels/attention/attention.js';
import { attentionRef, type HostView } from '../../src/kernels/attention/attention.ref.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray, rng } from '../helpers/random.js';

// f32 streaming softmax against an f64 reference: the error is dominated by the f32 accumulation
// of up to ~29k weighted values and of the scores over hd ≤ 256 terms; measured rel_l2 stays
// around 1e-6, so 1e-5 leaves margin without hiding a wrong max/rescale (those give ≥ 1e-2).
const TOL = { relL2: 1e-5 };

/** How q, k and v are laid out in memory. */
type Layout =
  /** q [B, nq, C], k and v [B, nk, C], three contiguous tensors. */
  | { kind: 'separate' }
  /** One fused projection [B, n, 3C] (row padded by `pad`, batch padded by `batchPad`): q | k | v. */
  | { kind: 'fused'; pad?: number; batchPad?: number; lead?: number }
  /** q [B, nq, C] alone; k and v interleaved in one [B, nk, 2C] tensor. */
  | { kind: 'kv-fused' };

interface AttnCase {
  name: string;
  batch: number;
  heads: number;
  hd: number;
  nq: number;
  nk: number;
  layout: Layout;
  scale?: number;
  /** Value range of q, k, v (large ranges make peaked softmaxes). */
  range?: number;
  /** Write into a strided view of a larger NaN buffer instead of a contiguous output. */
  stridedOut?: boolean;
  /** Query rows / batch items checked against the reference (default: all). */
  rows?: number[];
  batches?: number[];
  workgroupSize?: number;
}

interface Operand {
  data: Float32Array;
  view: Required<Omit<HostView, 'data'>>;
}

function buildOperands(c: AttnCase, seed: number): { q: Operand; k: Operand; v: Operand } {
  const C = c.heads * c.hd;
  const r = c.range ?? 1;
  const contiguous = (tokens: number, s: number): Operand => ({
    data: randomArray(c.batch * tokens * C, s, -r, r),
    view: { offset: 0, rowStride: C, batchStride: tokens * C },
  });
  if (c.layout.kind === 'separate') {
    return { q: contiguous(c.nq, seed), k: contiguous(c.nk, seed + 1), v: contiguous(c.nk, seed + 2) };
  }
  if (c.layout.kind === 'kv-fused') {
    const kv = randomArray(c.batch * c.nk * 2 * C, seed + 1, -r, r);
    const view = (offset: number) => ({ offset, rowStride: 2 * C, batchStride: c.nk * 2 * C });
    return { q: contiguous(c.nq, seed), k: { data: kv, view: view(0) }, v: { data: kv, view: view(C) } };
  }
  if (c.nq !== c.nk) throw new Error(`${c.name}: a fused qkv layout needs nq == nk`);
  const { pad = 0, batchPad = 0, lead = 0 } = c.layout;
  const rowStride = 3 * C + pad;
  const batchStride = c.nq * rowStride + batchPad;
  // Padding and the lead are NaN: reading them anywhere would poison the result.
  const data = nanArray(lead + c.batch * batchStride);
  const rand = randomArray(data.length, seed, -r, r);
  for (let b = 0; b < c.batch; b++) {
    for (let t = 0; t < c.nq; t++) {
      const at = lead + b * batchStride + t * rowStride;
      data.set(rand.subarray(at, at + 3 * C), at);
    }
  }
  const view = (offset: number) => ({ offset: lead + offset, rowStride, batchStride });
  return { q: { data, view: view(0) }, k: { data, view: view(C) }, v: { data, view: view(2 * C) } };
}

function attnCase(c: AttnCase): KernelCase {
  return {
    name: c.name,
    async run(gpu) {
      const C = c.heads * c.hd;
      const ops = buildOperands(c, c.nq * 7 + c.nk * 13 + c.hd);
      // Operands sharing a host array share one GPU tensor (views into a fused buffer).
      const uploaded = new Map<Float32Array, GpuTensor>();
      const tensorOf = (o: Operand) => {
        let t = uploaded.get(o.data);
        if (!t) uploaded.set(o.data, (t = gpu.upload(o.data, [o.data.length])));
        return t;
      };
      const view = (o: Operand) => ({ tensor: tensorOf(o), ...o.view });
      const outView = c.stridedOut
        ? { offset: 5, rowStride: C + 3, batchStride: c.nq * (C + 3) + 2 }
        : { offset: 0, rowStride: C, batchStride: c.nq * C };
      const outSize = outView.offset + c.batch * outView.batchStride;
      const out = gpu.upload(nanArray(outSize), [outSize]);
      const shape = { batch: c.batch, heads: c.heads, headDim: c.hd, nq: c.nq, nk: c.nk, scale: c.scale, workgroupSize: c.workgroupSize };
      attention(gpu, view(ops.q), view(ops.k), view(ops.v), shape, { tensor: out, ...outView });
      const got = await gpu.read(out);

      const rows = c.rows ?? Array.from({ length: c.nq }, (_, i) => i);
      const batches = c.batches ?? Array.from({ length: c.batch }, (_, i) => i);
      const picked = new Float32Array(batches.length * rows.length * C);
      const refs: Float64Array[] = [];
      batches.forEach((b, bi) => {
        // One batch item at a time: shift each view to item b.
        const at = (o: Operand): HostView => ({ data: o.data, offset: o.view.offset + b * o.view.batchStride, rowStride: o.view.rowStride });
        refs.push(attentionRef(at(ops.q), at(ops.k), at(ops.v), { ...shape, batch: 1 }, rows));
        rows.forEach((row, ri) => {
          const src = outView.offset + b * outView.batchStride + row * outView.rowStride;
          picked.set(got.subarray(src, src + C), (bi * rows.length + ri) * C);
        });
      });
      const ref = new Float64Array(picked.length);
      refs.forEach((r, i) => ref.set(r, i * r.length));
      assertClose(c.name, picked, ref, TOL, [batches.length, rows.length, C]);

      if (c.stridedOut) {
        // Everything outside the view must be untouched (still NaN).
        let written = 0;
        for (const x of got) if (!Number.isNaN(x)) written++;
        if (written !== c.batch * c.nq * C) throw new Error(`${c.name}: ${written} elements written, expected ${c.batch * c.nq * C}`);
      }
      for (const t of uploaded.values()) t.release();
      out.release();
    },
  };
}

/** `count` distinct indices spread over [0, n), always including the first and last. */
function spread(n: number, count: number, seed: number): number[] {
  const r = rng(seed);
  const set = new Set([0, n - 1]);
  while (set.size < Math.min(count, n)) set.add(Math.floor(r() * n));
  return [...set].sort((a, b) => a - b);
}

const rejects: KernelCase = {
  name: 'rejects bad shapes and views with clear errors',
  async run(gpu) {
    const t = gpu.upload(randomArray(4 * 64, 1), [4, 64]);
    const o = gpu.upload(nanArray(4 * 64), [4, 64]);
    const s = { batch: 1, heads: 1, headDim: 64, nq: 4, nk: 4 };
    const expectThrow = (what: string, f: () => unknown, pattern: RegExp) => {
      try {
        f();
      } catch (e) {
        if (!pattern.test((e as Error).message)) throw new Error(`${what}: unexpected message "${(e as Error).message}"`);
        return;
      }
      throw new Error(`${what}: no error thrown`);
    };
    expectThrow('head dim too large', () => attention(gpu, t, t, t, { ...s, headDim: 300, heads: 1 }, o), /headDim 300/);
    expectThrow('k view too short', () => attention(gpu, t, t, t, { ...s, nk: 5 }, o), /k .* reaches element/);
    expectThrow('out aliases q', () => attention(gpu, t, t, t, s, t), /must not share a buffer/);
    expectThrow('zero tokens', () => attention(gpu, t, t, t, { ...s, nq: 0 }, o), /nq must be a positive integer/);
    t.release();
    o.release();
  },
};

export const cases: KernelCase[] = [
  // Small, odd, every layout; head dims of Hiera b+ (56) and odd multiples of 4.
  attnCase({ name: 'single query, single key', batch: 1, heads: 1, hd: 24, nq: 1, nk: 1, layout: { kind: 'separate' } }),
  attnCase({ name: 'fused qkv B=3 H=2 hd=24 n=65 (row/batch padding)', batch: 3, heads: 2, hd: 24, nq: 65, nk: 65, layout: { kind: 'fused', pad: 4, batchPad: 8, lead: 12 } }),
  attnCase({ name: 'kv-fused B=2 H=3 hd=56 nq=9 nk=197, strided out', batch: 2, heads: 3, hd: 56, nq: 9, nk: 197, layout: { kind: 'kv-fused' }, stridedOut: true }),
  attnCase({ name: 'hd=96 H=2 nq=1025 nk=9 (more queries than keys), wg 32', batch: 1, heads: 2, hd: 96, nq: 1025, nk: 9, layout: { kind: 'separate' }, workgroupSize: 32 }),
  attnCase({ name: 'peaked softmax (|q|,|k| ≤ 6, hd=64, scale 0.5)', batch: 2, heads: 1, hd: 64, nq: 33, nk: 301, layout: { kind: 'separate' }, range: 6, scale: 0.5 }),
  // Head dims that are not multiples of 4 and unaligned views take the scalar k/v path.
  attnCase({ name: 'scalar path: hd=6 H=3 fused, odd lead', batch: 2, heads: 3, hd: 6, nq: 9, nk: 9, layout: { kind: 'fused', lead: 1, pad: 1 } }),
  attnCase({ name: 'scalar path: hd=10 H=2 nq=65 nk=31', batch: 1, heads: 2, hd: 10, nq: 65, nk: 31, layout: { kind: 'kv-fused' } }),
  // Realistic SAM 2 shapes.
  attnCase({
    name: 'Hiera block 0 windows: 1024 windows × 64 tokens, 1×96, fused qkv',
    batch: 1024, heads: 1, hd: 96, nq: 64, nk: 64, layout: { kind: 'fused' }, batches: spread(1024, 6, 1),
  }),
  attnCase({
    name: 'Hiera 14×14 windows: 25 windows × 196 tokens, 4×96, fused qkv',
    batch: 25, heads: 4, hd: 96, nq: 196, nk: 196, layout: { kind: 'fused' }, batches: spread(25, 4, 2),
  }),
  attnCase({
    name: 'Hiera q-pool windows: 25 × (49 queries, 196 keys), 8×96',
    batch: 25, heads: 8, hd: 96, nq: 49, nk: 196, layout: { kind: 'kv-fused' }, batches: spread(25, 3, 3),
  }),
  attnCase({
    name: 'Hiera global attention (T36): 4096 tokens, 1×96, fused qkv',
    batch: 1, heads: 1, hd: 96, nq: 4096, nk: 4096, layout: { kind: 'fused' }, rows: spread(4096, 24, 4),
  }),
  attnCase({ name: 'decoder token→image: 8×16, nq=7, nk=4096', batch: 1, heads: 8, hd: 16, nq: 7, nk: 4096, layout: { kind: 'separate' } }),
  attnCase({
    name: 'decoder image→token: 8×16, nq=4096, nk=9',
    batch: 1, heads: 8, hd: 16, nq: 4096, nk: 9, layout: { kind: 'separate' }, rows: spread(4096, 64, 5),
  }),
  attnCase({ name: 'decoder token self-attention: 8×32, n=9, fused', batch: 1, heads: 8, hd: 32, nq: 9, nk: 9, layout: { kind: 'fused' } }),
  attnCase({
    name: 'memory attention micro: 1×64, nq=1024, nk=2·1024+16',
    batch: 1, heads: 1, hd: 64, nq: 1024, nk: 2064, layout: { kind: 'kv-fused' }, scale: 1 / 8, rows: spread(1024, 48, 6),
  }),
  attnCase({
    name: 'memory attention, longest bank: 1×256, nq=33, nk=28736',
    batch: 1, heads: 1, hd: 256, nq: 33, nk: 28736, layout: { kind: 'kv-fused' }, scale: 1 / 16,
  }),
  attnCase({
    name: 'large: 1×256, nq=1024, nk=7232',
    batch: 1, heads: 1, hd: 256, nq: 1024, nk: 7232, layout: { kind: 'separate' }, scale: 1 / 16, rows: spread(1024, 24, 7),
  }),
  rejects,
];
