// CPU references of the decisions kernels: the host decisions SamHeads used to take after a
// readback (argmax IoU, stability fallback, score gating, pointer blend), and the host output-mask
// path of the video predictor.
import { applyNonOverlap, bilinearResize, binarize } from '../../model/mask-postprocess.js';
import { FLAG, flagStride, type DecideOptions, type GatherField } from './decisions.js';

const f = Math.fround;

/** Flag records [B, flagStride(nm)] (f32 fields as bits) of masks [B, nm, p], iou [B, nm], score [B]. */
export function decideRef(masks: Float32Array, iou: Float32Array, score: Float32Array, b: number, nm: number, p: number, o: DecideOptions): Uint32Array {
  const stride = flagStride(nm);
  const out = new Uint32Array(b * stride);
  const bits = new Float32Array(out.buffer);
  for (let k = 0; k < b; k++) {
    const rec = k * stride;
    let best = 0;
    for (let j = 2; j < nm; j++) if (iou[k * nm + j] > iou[k * nm + 1 + best]) best = j - 1;
    const s = score[k];
    const present = !o.predObjScores || s > 0;
    const lambda = !o.predObjScores ? 1 : o.softNoObjPtr ? f(1 / (1 + Math.exp(-s))) : present ? 1 : 0;
    let areaI = 0;
    let areaU = 0;
    if (o.mode === 'dynamic') {
      for (let i = 0; i < p; i++) {
        const v = masks[(k * nm) * p + i];
        if (v > f(o.delta)) areaI++;
        if (v > f(-o.delta)) areaU++;
      }
    }
    const ratio = areaU > 0 ? f(f(areaI) / f(areaU)) : 1;
    const stable = o.mode === 'dynamic' && ratio >= f(o.thresh);
    let first = 0;
    let selected = 0;
    let token = 0;
    if (o.mode === 'multimask') {
      first = 1;
      selected = 1 + best;
      token = o.multimaskToken ? 1 + best : 0;
    } else if (o.mode === 'dynamic') {
      first = stable ? 0 : 1 + best;
      selected = first;
    }
    out[rec + FLAG.present] = present ? 1 : 0;
    out[rec + FLAG.selected] = selected;
    out[rec + FLAG.first] = first;
    out[rec + FLAG.token] = token;
    out[rec + FLAG.best] = best;
    out[rec + FLAG.stable] = stable ? 1 : 0;
    out[rec + FLAG.areaI] = areaI;
    out[rec + FLAG.areaU] = areaU;
    bits[rec + FLAG.stability] = ratio;
    bits[rec + FLAG.lambda] = lambda;
    bits[rec + FLAG.score] = s;
    for (let j = 0; j < nm; j++) bits[rec + FLAG.iou + j] = iou[k * nm + j];
  }
  return out;
}

/** out [B, count, len] = rows of src [B, rows, len] from each record's `field` (or fill where absent and gated). */
export function gatherRef(src: Float32Array, flags: Uint32Array, b: number, rows: number, len: number, field: GatherField, count: number, gateFill?: number): Float32Array {
  const stride = flags.length / b;
  const out = new Float32Array(b * count * len);
  for (let k = 0; k < b; k++) {
    const absent = gateFill !== undefined && flags[k * stride + FLAG.present] === 0;
    for (let j = 0; j < count; j++) {
      const row = Math.min(flags[k * stride + FLAG[field]] + j, rows - 1);
      for (let e = 0; e < len; e++) out[(k * count + j) * len + e] = absent ? gateFill : src[(k * rows + row) * len + e];
    }
  }
  return out;
}

/** (fixed ? λ·ptr : ptr) + (1 − λ)·noObj per object, float32 step by step. */
export function objPtrBlendRef(ptr: Float32Array, noObj: Float32Array, flags: Uint32Array, b: number, fixed: boolean): Float32Array {
  const c = noObj.length;
  const stride = flags.length / b;
  const lambdas = new Float32Array(flags.buffer, flags.byteOffset, flags.length);
  const out = new Float32Array(b * c);
  for (let k = 0; k < b; k++) {
    const l = lambdas[k * stride + FLAG.lambda];
    for (let i = 0; i < c; i++) {
      const x = fixed ? f(l * ptr[k * c + i]) : ptr[k * c + i];
      out[k * c + i] = f(x + f(f(1 - l) * noObj[i]));
    }
  }
  return out;
}

/** x [B, N, C] + embed [C] where the object is absent. */
export function noObjectTermRef(x: Float32Array, embed: Float32Array, flags: Uint32Array, b: number): Float32Array {
  const stride = flags.length / b;
  const per = x.length / b;
  return Float32Array.from(x, (v, i) => (flags[Math.floor(i / per) * stride + FLAG.present] ? v : f(v + embed[i % embed.length])));
}

/**
 * The host output path: bilinear to h × w, non-overlap across objects, logit > 0. Also returns the
 * resized logits before the non-overlap clamp.
 */
export function maskOutputRef(logits: Float32Array, b: number, inH: number, inW: number, h: number, w: number, nonOverlap: boolean): { masks: Uint8Array; logits: Float32Array[] } {
  const per = inH * inW;
  const raw = Array.from({ length: b }, (_, k) => bilinearResize(logits.subarray(k * per, (k + 1) * per), inH, inW, h, w));
  const up = raw.map((l) => l.slice());
  if (nonOverlap) applyNonOverlap(up);
  const masks = new Uint8Array(b * h * w);
  up.forEach((l, k) => masks.set(binarize(l), k * h * w));
  return { masks, logits: raw };
}
