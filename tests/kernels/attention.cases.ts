import { attention, windowAttention, type AttentionShape } from '../../src/kernels/attention/attention.js';
import { attentionRef, type HostView } from '../../src/kernels/attention/attention.ref.js';
import { ropeRef } from '../../src/kernels/rope/rope.ref.js';
import { axialRopeTable, getRopeTable } from '../../src/kernels/rope/rope-table.js';
import { maxPool2x2Ref, windowPartitionRef, windowUnpartitionRef } from '../../src/kernels/window/window.ref.js';
import { float16ToFloat32Array, float32ToFloat16Array } from '../../src/io/half.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { DType, GpuTensor } from '../../src/runtime/tensor.js';
import { assertClose, type Tolerance } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray, rng } from '../helpers/random.js';

// Tolerances, measured on lavapipe with every variant forced (worst rel_l2 seen in brackets):
// f32: the error is the f32 accumulation of up to ~29k weighted values and of the scores over
// hd ≤ 256 terms: rel_l2 ~1e-6 [streaming 1.1e-6, flash 1.2e-6, split-KV 1.2e-6]; 1e-5 leaves margin
// without hiding a wrong max/rescale (those give ≥ 1e-2).
const TOL_F32: Tolerance = { relL2: 1e-5 };
// f16 storage (inputs rounded to f16 before the reference sees them, so only the kernel's own
// rounding counts): the output is rounded to f16 (2^-11 relative) and f16 tiles hold P·V operands:
// rel_l2 [streaming 2.9e-4, flash 3.0e-4]; bound 1e-3.
const TOL_F16: Tolerance = { relL2: 1e-3 };
// f32 inputs staged as f16 in workgroup memory (flash config S16): q·scale, k and v are rounded to
// f16 (2^-11 relative each), scores err by ~|s|·2^-11: rel_l2 [9e-4 at |q|,|k| ≤ 6, ~4e-4 else];
// bound 3e-3. Only meant for GPUs, where tuning decides whether it is worth it.
const TOL_S16: Tolerance = { relL2: 3e-3 };

/** The tolerance of a case in `dtype` under whatever variant/config is forced on `gpu`. */
function tolFor(gpu: Gpu, dtype: DType): Tolerance {
  if (dtype === 'f16') return TOL_F16;
  return gpu.kernels.forced('attention')?.cfg?.S16 ? TOL_S16 : TOL_F32;
}

/** How q, k and v are laid out in memory. */
type Layout =
  /** q [B, nq, C], k [B, nk, C], v [B, nk, Cv], three contiguous tensors. */
  | { kind: 'separate' }
  /** One fused projection [B, n, 3C] (row padded by `pad`, batch padded by `batchPad`): q | k | v. */
  | { kind: 'fused'; pad?: number; batchPad?: number; lead?: number }
  /** q [B, nq, C] alone; k and v interleaved in one [B, nk, C + Cv] tensor. */
  | { kind: 'kv-fused' };

interface AttnCase {
  name: string;
  batch: number;
  heads: number;
  hd: number;
  /** v / output channels per head (default hd). */
  vhd?: number;
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
  dtype?: DType;
  /** Fused RoPE: q is one side×side grid; k is `frames` grids (repeat) + `excluded` unrotated tokens. */
  rope?: { side: number; frames?: number; excluded?: number };
}

interface Operand {
  data: Float32Array;
  view: Required<Omit<HostView, 'data'>>;
}

function buildOperands(c: AttnCase, seed: number): { q: Operand; k: Operand; v: Operand } {
  const C = c.heads * c.hd;
  const Cv = c.heads * (c.vhd ?? c.hd);
  const r = c.range ?? 1;
  const contiguous = (tokens: number, ch: number, s: number): Operand => ({
    data: randomArray(c.batch * tokens * ch, s, -r, r),
    view: { offset: 0, rowStride: ch, batchStride: tokens * ch },
  });
  if (c.layout.kind === 'separate') {
    return { q: contiguous(c.nq, C, seed), k: contiguous(c.nk, C, seed + 1), v: contiguous(c.nk, Cv, seed + 2) };
  }
  if (c.layout.kind === 'kv-fused') {
    const kv = randomArray(c.batch * c.nk * (C + Cv), seed + 1, -r, r);
    const view = (offset: number) => ({ offset, rowStride: C + Cv, batchStride: c.nk * (C + Cv) });
    return { q: contiguous(c.nq, C, seed), k: { data: kv, view: view(0) }, v: { data: kv, view: view(C) } };
  }
  if (c.nq !== c.nk || C !== Cv) throw new Error(`${c.name}: a fused qkv layout needs nq == nk and vhd == hd`);
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

/** Host values as the GPU sees them: f16 inputs are rounded before the reference reads them. */
function asStored(data: Float32Array, dtype: DType): Float32Array {
  return dtype === 'f16' ? float16ToFloat32Array(float32ToFloat16Array(data)) : data;
}

function upload(gpu: Gpu, data: Float32Array, dtype: DType): GpuTensor {
  return dtype === 'f16' ? gpu.upload(float32ToFloat16Array(data), [data.length], 'f16') : gpu.upload(data, [data.length]);
}

async function readAs(gpu: Gpu, t: GpuTensor): Promise<Float32Array> {
  return t.dtype === 'f16' ? float16ToFloat32Array(new Uint16Array(await gpu.readRaw(t))) : gpu.read(t);
}

/** f16 cases need shader-f16 (Chromium's SwiftShader lacks it); there they check the clear error instead. */
async function f16Unavailable(gpu: Gpu, name: string): Promise<boolean> {
  if (gpu.features.f16) return false;
  const t = gpu.upload(new Uint16Array(16), [16], 'f16');
  try {
    attention(gpu, t, t, t, { batch: 1, heads: 1, headDim: 4, nq: 4, nk: 4 }, gpu.empty([16], 'f16'));
    await gpu.sync();
  } catch {
    t.release();
    return true;
  }
  throw new Error(`${name}: no shader-f16, yet an f16 launch did not fail`);
}

function attnCase(c: AttnCase): KernelCase {
  return {
    name: c.name,
    async run(gpu) {
      const dtype = c.dtype ?? 'f32';
      if (dtype === 'f16' && (await f16Unavailable(gpu, c.name))) return;
      const vhd = c.vhd ?? c.hd;
      const C = c.heads * c.hd;
      const Cv = c.heads * vhd;
      const ops = buildOperands(c, c.nq * 7 + c.nk * 13 + c.hd);
      for (const o of [ops.q, ops.k, ops.v]) o.data = asStored(o.data, dtype);
      // Operands sharing a host array share one GPU tensor (views into a fused buffer).
      const uploaded = new Map<Float32Array, GpuTensor>();
      const tensorOf = (o: Operand) => {
        let t = uploaded.get(o.data);
        if (!t) uploaded.set(o.data, (t = upload(gpu, o.data, dtype)));
        return t;
      };
      const view = (o: Operand) => ({ tensor: tensorOf(o), ...o.view });
      const outView = c.stridedOut
        ? { offset: 4, rowStride: Cv + 4, batchStride: c.nq * (Cv + 4) + 4 }
        : { offset: 0, rowStride: Cv, batchStride: c.nq * Cv };
      const outSize = outView.offset + c.batch * outView.batchStride;
      const out = upload(gpu, nanArray(outSize), dtype);
      const shape: AttentionShape = { batch: c.batch, heads: c.heads, headDim: c.hd, vHeadDim: vhd, nq: c.nq, nk: c.nk, scale: c.scale };
      let grid = 0;
      let table: Float32Array | undefined;
      if (c.rope) {
        const g = { headDim: c.hd, endX: c.rope.side, endY: c.rope.side };
        grid = c.rope.side * c.rope.side;
        table = axialRopeTable(g);
        shape.rope = { table: getRopeTable(gpu, g), kRepeat: (c.rope.frames ?? 1) > 1, kExcludedTail: c.rope.excluded ?? 0 };
      }
      attention(gpu, view(ops.q), view(ops.k), view(ops.v), shape, { tensor: out, ...outView });
      const got = await readAs(gpu, out);

      const rows = c.rows ?? Array.from({ length: c.nq }, (_, i) => i);
      const batches = c.batches ?? Array.from({ length: c.batch }, (_, i) => i);
      const picked = new Float32Array(batches.length * rows.length * Cv);
      const refs: Float64Array[] = [];
      batches.forEach((b, bi) => {
        // One batch item at a time: shift each view to item b (rotated copies with RoPE).
        const at = (o: Operand): HostView => ({ data: o.data, offset: o.view.offset + b * o.view.batchStride, rowStride: o.view.rowStride });
        let [q, k] = [at(ops.q), at(ops.k)];
        if (table) {
          const rot = (x: HostView, tokens: number, excluded: number): HostView => ({
            data: Float32Array.from(ropeRef(x.data, table!, { tokens, heads: c.heads, headDim: c.hd, grid, numExcludedTail: excluded, offset: x.offset, rowStride: x.rowStride })),
          });
          q = rot(q, c.nq, 0);
          k = rot(k, c.nk, c.rope!.excluded ?? 0);
        }
        refs.push(attentionRef(q, k, at(ops.v), { ...shape, batch: 1 }, rows));
        rows.forEach((row, ri) => {
          const src = outView.offset + b * outView.batchStride + row * outView.rowStride;
          picked.set(got.subarray(src, src + Cv), (bi * rows.length + ri) * Cv);
        });
      });
      const ref = new Float64Array(picked.length);
      refs.forEach((r, i) => ref.set(r, i * r.length));
      assertClose(c.name, picked, ref, tolFor(gpu, dtype), [batches.length, rows.length, Cv]);

      if (c.stridedOut) {
        // Everything outside the view must be untouched (still NaN).
        let written = 0;
        for (const x of got) if (!Number.isNaN(x)) written++;
        if (written !== c.batch * c.nq * Cv) throw new Error(`${c.name}: ${written} elements written, expected ${c.batch * c.nq * Cv}`);
      }
      for (const t of uploaded.values()) t.release();
      out.release();
    },
  };
}

interface WindowCase {
  name: string;
  height: number;
  width: number;
  /** 0 = global attention over the whole map. */
  window: number;
  pool?: boolean;
  heads: number;
  hd: number;
  /** qkv rows padded by this many (NaN) channels. */
  rowPad?: number;
  dtype?: DType;
}

/**
 * Hiera windowed attention read from an un-windowed qkv map [h·w, 3C] with the padding token = the
 * qkv bias, against the composition of the references: window partition (padded tokens = bias),
 * 2×2 max-pool of q inside each window, attention per window, unpartition and crop.
 */
function windowCase(c: WindowCase): KernelCase {
  return {
    name: c.name,
    async run(gpu) {
      const dtype = c.dtype ?? 'f32';
      if (dtype === 'f16' && (await f16Unavailable(gpu, c.name))) return;
      const { height: h, width: w, heads, hd } = c;
      const C = heads * hd;
      const C3 = 3 * C;
      const [wh, ww] = c.window > 0 ? [c.window, c.window] : [h, w];
      const nwy = Math.ceil(h / wh);
      const nwx = Math.ceil(w / ww);
      const nW = nwy * nwx;
      const s = c.pool ? 2 : 1;
      const [ho, wo, qh, qw] = [h / s, w / s, wh / s, ww / s];
      const rowStride = C3 + (c.rowPad ?? 0);
      const seed = h * 31 + w * 7 + C;
      // qkv map with NaN row padding; bias in its own buffer.
      const qkvHost = nanArray(h * w * rowStride);
      const rand = asStored(randomArray(h * w * C3, seed), dtype);
      for (let t = 0; t < h * w; t++) qkvHost.set(rand.subarray(t * C3, (t + 1) * C3), t * rowStride);
      const bias = asStored(randomArray(C3, seed + 1), dtype);
      const qkv = upload(gpu, qkvHost, dtype);
      const biasT = upload(gpu, bias, dtype);
      const out = upload(gpu, nanArray(ho * wo * C), dtype);
      const view = (offset: number) => ({ tensor: qkv, offset, rowStride });
      windowAttention(gpu, view(0), view(C), view(2 * C), { heads, headDim: hd, window: { height: h, width: w, window: c.window, pool: c.pool, pad: { tensor: biasT, kOffset: C, vOffset: 2 * C } } }, out);
      const got = await readAs(gpu, out);

      // Reference: windows of the contiguous qkv map, padded tokens replaced by the bias.
      // (Global attention is one window: the map itself.)
      const global = c.window === 0;
      const windows = global ? rand : Float32Array.from(windowPartitionRef(rand, 1, h, w, C3, c.window));
      if (!global) {
        const inMap = windowPartitionRef(new Float32Array(h * w).fill(1), 1, h, w, 1, c.window);
        for (let t = 0; t < inMap.length; t++) if (inMap[t] === 0) windows.set(bias, t * C3);
      }
      const q = c.pool
        ? { data: Float32Array.from(maxPool2x2Ref(windows, { batch: nW, height: wh, width: ww, channels: C, pixelStride: C3 })), rowStride: C }
        : { data: windows, rowStride: C3 };
      const o = new Float32Array(nW * qh * qw * C);
      for (let b = 0; b < nW; b++) {
        const kv = (off: number): HostView => ({ data: windows, offset: b * wh * ww * C3 + off, rowStride: C3 });
        const r = attentionRef({ data: q.data, offset: b * qh * qw * q.rowStride, rowStride: q.rowStride }, kv(C), kv(2 * C), { batch: 1, heads, headDim: hd, nq: qh * qw, nk: wh * ww });
        o.set(r, b * qh * qw * C);
      }
      const ref = global ? o : windowUnpartitionRef(o, 1, ho, wo, C, qh);
      assertClose(c.name, got, ref, tolFor(gpu, dtype), [ho, wo, C]);
      [qkv, biasT, out].forEach((t) => t.release());
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
  name: 'rejects bad shapes, views, RoPE grids and windows with clear errors',
  async run(gpu) {
    const t = gpu.upload(randomArray(16 * 64, 1), [16, 64]);
    const o = gpu.upload(nanArray(16 * 64), [16, 64]);
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
    const table = getRopeTable(gpu, { headDim: 64, endX: 2, endY: 2 });
    expectThrow('head dim too large', () => attention(gpu, t, t, t, { ...s, headDim: 300 }, o), /headDim 300/);
    expectThrow('v head dim too large', () => attention(gpu, t, t, t, { ...s, vHeadDim: 257 }, o), /vHeadDim 257/);
    expectThrow('k view too short', () => attention(gpu, t, t, t, { ...s, nk: 17 }, o), /k .* reaches element/);
    expectThrow('out aliases q', () => attention(gpu, t, t, t, s, t), /must not share a buffer/);
    expectThrow('zero tokens', () => attention(gpu, t, t, t, { ...s, nq: 0 }, o), /nq must be a positive integer/);
    expectThrow('rope grid', () => attention(gpu, t, t, t, { ...s, nq: 5, rope: { table } }, o), /5 queries do not match the 2×2 RoPE grid/);
    expectThrow('rope k repeat', () => attention(gpu, t, t, t, { ...s, nk: 10, rope: { table, kRepeat: true } }, o), /10 rotated keys are not a whole number/);
    expectThrow('rope head dim', () => attention(gpu, t, t, t, { ...s, heads: 2, headDim: 32, rope: { table } }, o), /table is for head dim 64/);
    const win = { height: 4, width: 4, window: 3 };
    expectThrow('window needs pad', () => windowAttention(gpu, t, t, t, { heads: 1, headDim: 64, window: win }, o), /give the padding token/);
    expectThrow('pool odd window', () => windowAttention(gpu, t, t, t, { heads: 1, headDim: 64, window: { ...win, pool: true, pad: { tensor: t, kOffset: 0, vOffset: 0 } } }, o), /even window/);
    expectThrow('rope + window', () => attention(gpu, t, t, t, { ...s, rope: { table }, window: { height: 2, width: 2, window: 2 } }, o), /cannot be combined/);
    t.release();
    o.release();
  },
};

// Every case runs once per variant (attention.test.ts). `heavy` cases (real SAM 2 shapes, up to
// 7.6 GFLOP) run for the CPU default everywhere and for the GPU variants only with SAM2_FULL=1:
// lavapipe runs the barrier-heavy GPU kernels at a fraction of a GFLOP/s.
export const lightCases: KernelCase[] = [
  // Small, odd, every layout; nq < BR and nk < BC of the flash kernels; head dims of Hiera b+ (56)
  // and odd multiples of 4.
  attnCase({ name: 'single query, single key', batch: 1, heads: 1, hd: 24, nq: 1, nk: 1, layout: { kind: 'separate' } }),
  attnCase({ name: 'fused qkv B=3 H=2 hd=24 n=65 (row/batch padding)', batch: 3, heads: 2, hd: 24, nq: 65, nk: 65, layout: { kind: 'fused', pad: 4, batchPad: 8, lead: 12 } }),
  attnCase({ name: 'kv-fused B=2 H=3 hd=56 nq=9 nk=197, strided out', batch: 2, heads: 3, hd: 56, nq: 9, nk: 197, layout: { kind: 'kv-fused' }, stridedOut: true }),
  attnCase({ name: 'hd=96 H=2 nq=300 nk=9 (more queries than keys)', batch: 1, heads: 2, hd: 96, nq: 300, nk: 9, layout: { kind: 'separate' } }),
  attnCase({ name: 'peaked softmax (|q|,|k| ≤ 6, hd=64, scale 0.5)', batch: 2, heads: 1, hd: 64, nq: 33, nk: 301, layout: { kind: 'separate' }, range: 6, scale: 0.5 }),
  // Head dims that are not multiples of 4 and unaligned views take the scalar k/v path.
  attnCase({ name: 'scalar path: hd=6 H=3 fused, odd lead', batch: 2, heads: 3, hd: 6, nq: 9, nk: 9, layout: { kind: 'fused', lead: 1, pad: 1 } }),
  attnCase({ name: 'scalar path: hd=10 H=2 nq=65 nk=31', batch: 1, heads: 2, hd: 10, nq: 65, nk: 31, layout: { kind: 'kv-fused' } }),
  // v head dim ≠ q/k head dim (memory attention attends over the raw 64-channel memory).
  attnCase({ name: 'vHeadDim 64 ≠ headDim 256: nq=37 nk=203, kv-fused', batch: 1, heads: 1, hd: 256, vhd: 64, nq: 37, nk: 203, layout: { kind: 'kv-fused' }, scale: 1 / 16 }),
  attnCase({ name: 'vHeadDim 20 ≠ headDim 12, H=2 B=2, strided out', batch: 2, heads: 2, hd: 12, vhd: 20, nq: 41, nk: 70, layout: { kind: 'separate' }, stridedOut: true }),
  attnCase({ name: 'vHeadDim 7 (scalar v) ≠ headDim 8', batch: 1, heads: 1, hd: 8, vhd: 7, nq: 10, nk: 45, layout: { kind: 'separate' } }),
  // RoPE fused into the q/k loads, against rope.ref then attention.ref.
  attnCase({ name: 'fused RoPE self-attention 8×8 grid, 1×64', batch: 1, heads: 1, hd: 64, nq: 64, nk: 64, layout: { kind: 'separate' }, rope: { side: 8 }, range: 2 }),
  attnCase({
    name: 'fused RoPE cross-attention: 6×6 grid, k = 3 frames + 5 excluded, hd 32 → vhd 16',
    batch: 1, heads: 1, hd: 32, vhd: 16, nq: 36, nk: 3 * 36 + 5, layout: { kind: 'kv-fused' }, rope: { side: 6, frames: 3, excluded: 5 }, range: 2,
  }),
  attnCase({ name: 'fused RoPE, 2 heads × 16, fused qkv, 5×5 grid', batch: 1, heads: 2, hd: 16, nq: 25, nk: 25, layout: { kind: 'fused', pad: 4 }, rope: { side: 5 } }),
  // Hiera windows read from the un-windowed map (padding = qkv bias), q-pool, global.
  windowCase({ name: 'window 4 on a 10×7 map (padded), 2×8, row padding', height: 10, width: 7, window: 4, heads: 2, hd: 8, rowPad: 4 }),
  windowCase({ name: 'window 4 + q-pool on a 10×6 map (padded), 1×12', height: 10, width: 6, window: 4, pool: true, heads: 1, hd: 12 }),
  windowCase({ name: 'window 3 on a 6×6 map (no padding), 3×4', height: 6, width: 6, window: 3, heads: 3, hd: 4 }),
  windowCase({ name: 'global + q-pool on an 8×6 map, 2×8', height: 8, width: 6, window: 0, pool: true, heads: 2, hd: 8 }),
  windowCase({ name: 'window 14 on a 16×16 map (stage-3 style padding), 1×24', height: 16, width: 16, window: 14, heads: 1, hd: 24 }),
  // f16 storage (f32 math).
  attnCase({ name: 'f16: fused qkv B=2 H=2 hd=32 n=70', batch: 2, heads: 2, hd: 32, nq: 70, nk: 70, layout: { kind: 'fused' }, dtype: 'f16' }),
  attnCase({ name: 'f16: fused RoPE 1×64, 6×6 grid, k = 2 frames + 3 excluded', batch: 1, heads: 1, hd: 64, nq: 36, nk: 75, layout: { kind: 'kv-fused' }, rope: { side: 6, frames: 2, excluded: 3 }, dtype: 'f16' }),
  windowCase({ name: 'f16: window 4 + q-pool on a 10×6 map, 2×8', height: 10, width: 6, window: 4, pool: true, heads: 2, hd: 8, dtype: 'f16' }),
  // Realistic but small SAM 2 shapes.
  attnCase({ name: 'decoder token self-attention: 8×32, n=9, fused', batch: 1, heads: 8, hd: 32, nq: 9, nk: 9, layout: { kind: 'fused' } }),
  attnCase({ name: 'memory attention, short bank: 1×256 → 64, nq=40, nk=1049 (split-KV)', batch: 1, heads: 1, hd: 256, vhd: 64, nq: 40, nk: 1049, layout: { kind: 'kv-fused' }, scale: 1 / 16 }),
  rejects,
];

export const heavyCases: KernelCase[] = [
  attnCase({ name: 'hd=96 H=2 nq=1025 nk=9 (more queries than keys)', batch: 1, heads: 2, hd: 96, nq: 1025, nk: 9, layout: { kind: 'separate' } }),
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
  windowCase({ name: 'Hiera stage 3 at 512 px: window 14 on 32×32, 4×24', height: 32, width: 32, window: 14, heads: 4, hd: 24 }),
  attnCase({ name: 'decoder token→image: 8×16, nq=7, nk=4096', batch: 1, heads: 8, hd: 16, nq: 7, nk: 4096, layout: { kind: 'separate' } }),
  attnCase({
    name: 'decoder image→token: 8×16, nq=4096, nk=9',
    batch: 1, heads: 8, hd: 16, nq: 4096, nk: 9, layout: { kind: 'separate' }, rows: spread(4096, 64, 5),
  }),
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
];

export const cases: KernelCase[] = [...lightCases, ...heavyCases];
