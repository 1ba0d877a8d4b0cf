import { fillHolesInto } from '../../src/kernels/fill-holes/fill-holes.js';
import { fillHolesRef } from '../../src/kernels/fill-holes/fill-holes.ref.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { DType } from '../../src/runtime/tensor.js';
import { assertClose } from '../helpers/compare.js';
import { readAsF32, roundToF16, uploadAs } from '../helpers/f16.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { rng } from '../helpers/random.js';

type Pattern = 'blobs' | 'noise' | 'serpentine' | 'all-fg' | 'all-bg';

/**
 * B masks of H×W logits: foreground in (0, 5], background in [-5, 0] (with exact zeros, which
 * count as background). 'blobs' carves background blobs of 1..40 pixels (many touching each other
 * only diagonally, some at the border) into foreground; 'noise' is ~45% scattered background
 * (components of every size, long diagonal chains); 'serpentine' is one winding background path
 * (a long chain of unions).
 */
function masks(b: number, h: number, w: number, pattern: Pattern, seed: number): Float32Array {
  const r = rng(seed);
  const fg = () => 1e-3 + 5 * r();
  const bg = () => (r() < 0.1 ? 0 : -5 * r());
  const out = new Float32Array(b * h * w);
  for (let k = 0; k < b; k++) {
    const m = out.subarray(k * h * w, (k + 1) * h * w);
    if (pattern === 'all-bg') m.forEach((_, i) => (m[i] = bg()));
    else m.forEach((_, i) => (m[i] = fg()));
    if (pattern === 'noise') m.forEach((_, i) => (m[i] = r() < 0.45 ? bg() : fg()));
    if (pattern === 'serpentine') {
      for (let y = 0; y < h; y++) {
        if (y % 2 === 0) for (let x = 0; x < w; x++) m[y * w + x] = bg();
        else m[y * w + ((y >> 1) % 2 === 0 ? w - 1 : 0)] = bg();
      }
    }
    if (pattern === 'blobs') {
      const blobs = Math.max(1, Math.floor((h * w) / 60));
      for (let n = 0; n < blobs; n++) {
        // A random walk of `size` steps (8-neighbour moves): a blob of up to `size` pixels.
        const size = 1 + Math.floor(r() * r() * 40);
        let x = Math.floor(r() * w);
        let y = Math.floor(r() * h);
        for (let s = 0; s < size; s++) {
          m[y * w + x] = bg();
          x = Math.min(w - 1, Math.max(0, x + Math.floor(r() * 3) - 1));
          y = Math.min(h - 1, Math.max(0, y + Math.floor(r() * 3) - 1));
        }
      }
    }
  }
  return out;
}

/** Pixels the reference changes: a case where the fill changes nothing (or everything) proves little. */
function changed(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

const fillCase = (b: number, h: number, w: number, maxArea: number, pattern: Pattern, dtype: DType = 'f32', expectChange: 'some' | 'none' | 'any' = 'some'): KernelCase => ({
  name: `${dtype} ${pattern} [${b}, ${h}, ${w}] maxArea=${maxArea}`,
  async run(gpu: Gpu) {
    if (dtype === 'f16' && !gpu.features.f16) return; // no f16 storage on this adapter (SwiftShader in Chromium)
    let src = masks(b, h, w, pattern, 1000 * b + 31 * h + w + maxArea);
    if (dtype === 'f16') src = roundToF16(src);
    const n = src.length;
    const shape = [b, h, w];
    const ts = uploadAs(gpu, src, shape, dtype);
    // Poisoned: the output and the scratch start as NaN / all-ones bits, so anything unwritten shows.
    const out = uploadAs(gpu, new Float32Array(n).fill(Number.NaN), shape, dtype);
    const parent = gpu.upload(new Uint32Array(n).fill(0xfffffffe), [n], 'u32');
    const count = gpu.upload(new Uint32Array(n).fill(0xfffffffe), [n], 'u32');
    fillHolesInto(gpu, { src: ts, out, parent, count, maxArea });
    const fill = dtype === 'f16' ? roundToF16(Float32Array.of(0.1))[0] : Math.fround(0.1);
    const ref = fillHolesRef(src, h, w, maxArea, fill);
    const diff = changed(src, ref);
    if (expectChange === 'some' && (diff === 0 || diff === n)) throw new Error(`test data: the reference fills ${diff} of ${n} pixels; the case checks nothing`);
    if (expectChange === 'none' && diff !== 0) throw new Error(`test data: the reference fills ${diff} pixels where none was expected`);
    assertClose('fill-holes', await readAsF32(gpu, out), ref, { atol: 0 });
    // The input is left as it was.
    assertClose('fill-holes src', await readAsF32(gpu, ts), src, { atol: 0 });
    [ts, out, parent, count].forEach((t) => t.release());
  },
});

export const cases: KernelCase[] = [
  fillCase(1, 1, 1, 1, 'all-bg', 'f32', 'any'),
  fillCase(1, 1, 1, 1, 'all-fg', 'f32', 'none'),
  fillCase(1, 7, 5, 8, 'noise'),
  fillCase(3, 17, 23, 8, 'blobs'),
  fillCase(2, 31, 1, 2, 'noise'),
  fillCase(1, 1, 45, 3, 'noise'),
  fillCase(4, 64, 64, 1, 'noise'),
  fillCase(4, 64, 64, 8, 'noise'),
  fillCase(2, 65, 63, 20, 'blobs'),
  // SAM 2 @512 (128² low-res) and @1024 (256²), the official area 8, several objects.
  fillCase(4, 128, 128, 8, 'blobs'),
  fillCase(2, 256, 256, 8, 'blobs'),
  fillCase(1, 256, 256, 8, 'noise'),
  // One long winding component: just above and just below its area.
  fillCase(1, 33, 29, 17 * 29 + 16 - 1, 'serpentine', 'f32', 'none'),
  fillCase(1, 33, 29, 17 * 29 + 16, 'serpentine', 'f32', 'some'),
  fillCase(2, 9, 11, 98, 'all-bg', 'f32', 'none'),
  fillCase(2, 9, 11, 99, 'all-bg', 'f32', 'any'),
  fillCase(1, 40, 40, 1 << 30, 'noise', 'f32', 'some'),
  fillCase(3, 37, 41, 8, 'blobs', 'f16'),
];
