// The decisions family against its CPU references: flag records, gathers, the pointer blend and the
// no-object term are exact (tolerance 0; σ of the soft pointer weight aside); output masks may
// differ from the host's float64 bilinear only where the resized logit is within 1e-5 of a tie.
import {
  addNoObjectTerm,
  decide,
  FLAG,
  flagStride,
  gatherProgram,
  maskOutput,
  maskOutputWords,
  objPtrBlend,
  type DecideOptions,
  type GatherField,
} from '../../src/kernels/decisions/decisions.js';
import { decideRef, gatherRef, maskOutputRef, noObjectTermRef, objPtrBlendRef } from '../../src/kernels/decisions/decisions.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray, rng } from '../helpers/random.js';

const POISON = 0xdeadbeef;
const BASE: DecideOptions = { mode: 'single', delta: 0.05, thresh: 0.98, predObjScores: true, multimaskToken: true, softNoObjPtr: false };

/** Logits concentrated around ±delta (exact hits included) so the strict counts matter. */
function maskLogits(n: number, seed: number): Float32Array {
  const m = randomArray(n, seed, -0.2, 0.2);
  for (let i = 0; i < n; i += 13) m[i] = Math.fround(0.05);
  for (let i = 6; i < n; i += 17) m[i] = Math.fround(-0.05);
  return m;
}

const decideCase = (name: string, b: number, nm: number, h: number, w: number, o: Partial<DecideOptions>, edit?: (m: Float32Array, iou: Float32Array, s: Float32Array) => void): KernelCase => ({
  name: `decide ${name} B=${b} NM=${nm} ${h}x${w}`,
  async run(gpu) {
    const opts = { ...BASE, ...o };
    const p = h * w;
    const masks = maskLogits(b * nm * p, 3 * b + p);
    const iou = randomArray(b * nm, 5 + b, 0, 1);
    const score = randomArray(b, 7 + b, -2, 2);
    edit?.(masks, iou, score);
    const [tm, ti, ts] = [gpu.upload(masks, [b, nm, h, w]), gpu.upload(iou, [b, nm]), gpu.upload(score, [b, 1])];
    const flags = gpu.upload(new Uint32Array(b * flagStride(nm)).fill(POISON), [b, flagStride(nm)], 'u32');
    decide(gpu, tm, ti, ts, opts, flags);
    const got = new Uint32Array(await gpu.readRaw(flags));
    const want = decideRef(masks, iou, score, b, nm, p, opts);
    const gotF = new Float32Array(got.buffer);
    const wantF = new Float32Array(want.buffer);
    for (let i = 0; i < want.length; i++) {
      const lambdaWord = i % flagStride(nm) === FLAG.lambda;
      if (lambdaWord && opts.softNoObjPtr) {
        if (!(Math.abs(gotF[i] - wantF[i]) <= 1e-6)) throw new Error(`decide: λ of object ${Math.floor(i / flagStride(nm))} is ${gotF[i]}, expected ${wantF[i]}`);
      } else if (got[i] !== want[i]) {
        throw new Error(`decide: word ${i % flagStride(nm)} of object ${Math.floor(i / flagStride(nm))} is ${got[i]} (${gotF[i]}), expected ${want[i]} (${wantF[i]})`);
      }
    }
    [tm, ti, ts, flags].forEach((t) => t.release());
  },
});

/** Mask 0 of each object with exactly `hi` values above delta and `lo` above −delta. */
const exactCounts = (counts: Array<[number, number]>, nm: number, p: number) => (m: Float32Array) => {
  counts.forEach(([hi, lo], k) => {
    const base = k * nm * p;
    for (let i = 0; i < p; i++) m[base + i] = i < hi ? 1 : i < lo ? 0 : -1;
  });
};

/** Random flag records: indices in range for `count` rows out of `rows`, about half absent. */
function randomFlags(b: number, nm: number, rows: number, count: number, seed: number): Uint32Array {
  const r = rng(seed);
  const stride = flagStride(nm);
  const flags = new Uint32Array(b * stride).fill(POISON);
  for (let k = 0; k < b; k++) {
    flags[k * stride + FLAG.present] = r() < 0.5 ? 0 : 1;
    for (const field of ['selected', 'first', 'token'] as const) flags[k * stride + FLAG[field]] = Math.floor(r() * (rows - count + 1));
    new Float32Array(flags.buffer)[k * stride + FLAG.lambda] = [0, 1, 0.37][k % 3];
  }
  return flags;
}

const gatherCase = (b: number, rows: number, len: number, field: GatherField, count: number, gateFill?: number): KernelCase => ({
  name: `gather B=${b} rows=${rows} len=${len} ${field} count=${count}${gateFill === undefined ? '' : ` gate=${gateFill}`}`,
  async run(gpu) {
    const src = randomArray(b * rows * len, 11 * len + b, -30, 30);
    const flags = randomFlags(b, 4, rows, count, 17 + b);
    const [ts, tf] = [gpu.upload(src, [b, rows, len]), gpu.upload(flags, [flags.length], 'u32')];
    const got = gpu.upload(nanArray(b * count * len), [b, count, len]);
    gpu.run(gatherProgram(ts, tf, got, { field, count, gateFill }));
    assertClose('gather', await gpu.read(got), Float64Array.from(gatherRef(src, flags, b, rows, len, field, count, gateFill)), { atol: 0 });
    [ts, tf, got].forEach((t) => t.release());
  },
});

const blendCase = (b: number, c: number, fixed: boolean): KernelCase => ({
  name: `obj-ptr blend B=${b} C=${c} fixed=${fixed}`,
  async run(gpu) {
    const ptr = randomArray(b * c, 23 + c, -3, 3);
    const noObj = randomArray(c, 29 + c, -1, 1);
    const flags = randomFlags(b, 4, 4, 1, 31 + b);
    const [tp, tn, tf] = [gpu.upload(ptr, [b, c]), gpu.upload(noObj, [c]), gpu.upload(flags, [flags.length], 'u32')];
    const got = objPtrBlend(gpu, tp, tn, tf, fixed);
    assertClose('obj-ptr', await gpu.read(got), Float64Array.from(objPtrBlendRef(ptr, noObj, flags, b, fixed)), { atol: 0 });
    [tp, tn, tf, got].forEach((t) => t.release());
  },
});

const noObjectCase = (b: number, n: number, c: number): KernelCase => ({
  name: `no-object term B=${b} N=${n} C=${c}`,
  async run(gpu) {
    const x = randomArray(b * n * c, 37 + n, -2, 2);
    const embed = randomArray(c, 41 + c, -1, 1);
    const flags = randomFlags(b, 4, 4, 1, 43 + b);
    const [tx, te, tf] = [gpu.upload(x, [b, n, c]), gpu.upload(embed, [1, c]), gpu.upload(flags, [flags.length], 'u32')];
    addNoObjectTerm(gpu, tx, te, tf, b);
    assertClose('no-object', await gpu.read(tx), Float64Array.from(noObjectTermRef(x, embed, flags, b)), { atol: 0 });
    [tx, te, tf].forEach((t) => t.release());
  },
});

const maskOutputCase = (b: number, inH: number, inW: number, h: number, w: number, nonOverlap: boolean, duplicate = false): KernelCase => ({
  name: `mask output B=${b} ${inH}x${inW} -> ${h}x${w} nonOverlap=${nonOverlap}${duplicate ? ' (object 1 = object 0: ties)' : ''}`,
  async run(gpu) {
    const logits = randomArray(b * inH * inW, 47 + inH * w, -4, 4);
    for (let i = 0; i < logits.length; i += 19) logits[i] = 0;
    for (let i = 3; i < logits.length; i += 23) logits[i] = -1024;
    if (duplicate) logits.copyWithin(inH * inW, 0, inH * inW);
    const words = maskOutputWords(b, h, w);
    const tl = gpu.upload(logits, [b, inH, inW]);
    const out = gpu.upload(new Uint32Array(words + 1).fill(POISON), [words + 1], 'u32');
    maskOutput(gpu, tl, { height: h, width: w, nonOverlap }, out);
    const raw = new Uint32Array(await gpu.readRaw(out));
    if (raw[words] !== POISON) throw new Error('mask output: wrote past its words');
    const got = new Uint8Array(raw.buffer, 0, b * h * w);
    const ref = maskOutputRef(logits, b, inH, inW, h, w, nonOverlap);
    const per = h * w;
    let differ = 0;
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== 0 && got[i] !== 1) throw new Error(`mask output: byte ${i} is ${got[i]}, not 0/1`);
      if (got[i] === ref.masks[i]) continue;
      const [k, pix] = [Math.floor(i / per), i % per];
      const v = ref.logits[k][pix];
      const tie = nonOverlap && ref.logits.some((l, o) => o !== k && l[pix] !== v && Math.abs(l[pix] - v) < 1e-5);
      if (Math.abs(v) >= 1e-5 && !tie) throw new Error(`mask output: object ${k} pixel ${pix} is ${got[i]}, expected ${ref.masks[i]} (logit ${v})`);
      differ++;
    }
    if (differ > got.length / 1000) throw new Error(`mask output: ${differ} knife-edge pixels differ`);
    [tl, out].forEach((t) => t.release());
  },
});

export const cases: KernelCase[] = [
  decideCase('single', 1, 4, 5, 7, { mode: 'single' }),
  decideCase('multimask', 3, 4, 9, 11, { mode: 'multimask' }),
  decideCase('multimask token off', 2, 4, 3, 3, { mode: 'multimask', multimaskToken: false }),
  decideCase('multimask ties', 2, 4, 3, 3, { mode: 'multimask' }, (_m, iou) => iou.set([0.1, 0.5, 0.7, 0.7, 0.2, 0.4, 0.4, 0.4])),
  decideCase('dynamic', 3, 4, 33, 31, { mode: 'dynamic' }),
  decideCase('dynamic stable 49/50 vs 48/49', 2, 4, 8, 8, { mode: 'dynamic' }, exactCounts([[49, 50], [48, 49]], 4, 64)),
  decideCase('dynamic empty and all', 2, 4, 4, 4, { mode: 'dynamic' }, exactCounts([[0, 0], [16, 16]], 4, 16)),
  decideCase('scores 0 and ±', 3, 4, 2, 3, { mode: 'single' }, (_m, _i, s) => s.set([0, -0.5, 0.25])),
  decideCase('no object scores', 2, 4, 2, 3, { mode: 'multimask', predObjScores: false }, (_m, _i, s) => s.set([-3, 3])),
  decideCase('soft pointer', 3, 4, 2, 3, { mode: 'single', softNoObjPtr: true }),
  decideCase('one mask token', 2, 1, 5, 5, { mode: 'single' }),
  gatherCase(1, 4, 64 * 64, 'selected', 1, -1024),
  gatherCase(3, 4, 37, 'first', 3, -1024),
  gatherCase(2, 4, 1, 'first', 3),
  gatherCase(3, 4, 65, 'token', 1),
  blendCase(3, 64, true),
  blendCase(5, 33, false),
  noObjectCase(3, 17, 64),
  noObjectCase(1, 5, 7),
  maskOutputCase(1, 16, 16, 37, 23, false),
  maskOutputCase(3, 16, 16, 37, 23, true),
  maskOutputCase(2, 64, 64, 20, 31, true),
  maskOutputCase(2, 32, 32, 32, 32, false),
  maskOutputCase(4, 64, 64, 113, 97, true),
  maskOutputCase(3, 16, 16, 37, 23, true, true),
];
