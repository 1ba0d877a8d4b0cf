import { rope, ropeProgram } from '../../src/kernels/rope/rope.js';
import { axialRopeTableRef, ropeRef } from '../../src/kernels/rope/rope.ref.js';
import { axialRopeTable, getRopeTable, ropeFrequencies } from '../../src/kernels/rope/rope-table.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

// The GPU rotation is 2 f32 products and a sum per output (inputs in [-2, 2], |cos|,|sin| ≤ 1):
// a few ulp of 2, so ≤ 1e-6 absolute; the reference applies the same f32 table in f64.
const ROTATE_TOL = { atol: 1e-6, relL2: 2e-7 };

const tableCase = (headDim: number, side: number, atol: number): KernelCase => ({
  name: `table ${headDim} ch on ${side}×${side} vs exact f64 (angles rounded to f32 as in torch)`,
  async run() {
    const t = axialRopeTable({ headDim, endX: side, endY: side });
    // Differences come only from the float32 angles t·freq (|angle| ≤ side−1): ≤ ~1 ulp(side) ≈ side·1.2e-7/2.
    assertClose('table', t, axialRopeTableRef(headDim, side, side), { atol }, [side * side, headDim / 2, 2]);
    // Exact spot checks: token 0 is the identity; pair 0 (freq 1) of token x rotates by x rad.
    const half = headDim / 2;
    if (t[0] !== 1 || t[1] !== 0) throw new Error('token 0 must be the identity rotation');
    const x = side - 1;
    assertClose('pair 0 of token x', [t[x * half * 2], t[x * half * 2 + 1]], [Math.cos(x), Math.sin(x)], { atol: 6e-8 });
    // First y pair of token side·y rotates by y rad.
    const y = side - 1;
    const e = (y * side * half + headDim / 4) * 2;
    assertClose('first y pair', [t[e], t[e + 1]], [Math.cos(y), Math.sin(y)], { atol: 6e-8 });
    // freqs = 1/theta^(4j/dim) as float32.
    const f = ropeFrequencies(headDim);
    assertClose('frequencies', f, Float64Array.from(f, (_, j) => Math.pow(10000, (-4 * j) / headDim)), { rtol: 1.2e-7, atol: 0 });
  },
});

interface RotateCase {
  name: string;
  heads: number;
  headDim: number;
  side: number;
  /** Grids of rotated tokens (> 1 needs repeat). */
  frames: number;
  excluded?: number;
  repeat?: boolean;
  inPlace: boolean;
  /** x is channels [offset, offset + C) of rows of `rowStride` in a larger buffer. */
  offset?: number;
  rowStride?: number;
}

const rotateCase = (c: RotateCase): KernelCase => ({
  name: c.name,
  async run(gpu) {
    const C = c.heads * c.headDim;
    const tokens = c.frames * c.side * c.side + (c.excluded ?? 0);
    const offset = c.offset ?? 0;
    const rowStride = c.rowStride ?? C;
    const size = Math.max(tokens * rowStride, offset + (tokens - 1) * rowStride + C);
    const host = randomArray(size, tokens + C, -2, 2);
    const x = gpu.upload(host, [size]);
    const grid = { headDim: c.headDim, endX: c.side, endY: c.side };
    const shape = { tokens, heads: c.heads, repeat: c.repeat, numExcludedTail: c.excluded };
    const view = { tensor: x, offset, rowStride };
    const ref = ropeRef(host, axialRopeTable(grid), { ...shape, headDim: c.headDim, grid: c.side * c.side, offset, rowStride });
    let got: Float32Array;
    if (c.inPlace) {
      rope(gpu, view, grid, shape);
      const all = await gpu.read(x);
      got = new Float32Array(tokens * C);
      for (let t = 0; t < tokens; t++) got.set(all.subarray(offset + t * rowStride, offset + t * rowStride + C), t * C);
      // Channels outside the view must be untouched.
      for (let i = 0; i < size; i++) {
        const inView = i >= offset && (i - offset) % rowStride < C && Math.floor((i - offset) / rowStride) < tokens;
        if (!inView && all[i] !== host[i]) throw new Error(`${c.name}: element ${i} outside the view changed`);
      }
    } else {
      const out = gpu.upload(nanArray(tokens * C), [tokens, C]);
      rope(gpu, view, grid, shape, out);
      got = await gpu.read(out);
      out.release();
    }
    assertClose(c.name, got, ref, ROTATE_TOL, [tokens, C]);
    x.release();
  },
});

const rejects: KernelCase = {
  name: 'rejects mismatched grids and head dims with clear errors',
  async run(gpu) {
    const x = gpu.upload(randomArray(20 * 64, 3), [20, 64]);
    const table = getRopeTable(gpu, { headDim: 64, endX: 4, endY: 4 });
    const expectThrow = (what: string, f: () => unknown, pattern: RegExp) => {
      try {
        f();
      } catch (e) {
        if (!pattern.test((e as Error).message)) throw new Error(`${what}: unexpected message "${(e as Error).message}"`);
        return;
      }
      throw new Error(`${what}: no error thrown`);
    };
    expectThrow('grid mismatch', () => ropeProgram(x, table, { tokens: 20, heads: 1, headDim: 64 }), /do not match the 4×4 grid/);
    expectThrow('partial repeat', () => ropeProgram(x, table, { tokens: 20, heads: 1, headDim: 64, repeat: true }), /not a whole number/);
    expectThrow('head dim', () => ropeProgram(x, table, { tokens: 16, heads: 1, headDim: 32 }), /does not match the table/);
    expectThrow('odd head dim', () => getRopeTable(gpu, { headDim: 30, endX: 4, endY: 4 }), /multiple of 4/);
    expectThrow('view too short', () => ropeProgram(x, table, { tokens: 16, heads: 2, headDim: 64, repeat: true }), /reaches element/);
    // 20 tokens = one 4×4 grid + 4 excluded pointer tokens is fine.
    ropeProgram(x, table, { tokens: 20, heads: 1, headDim: 64, numExcludedTail: 4 });
    x.release();
  },
};

export const cases: KernelCase[] = [
  tableCase(64, 16, 1.5e-6),
  tableCase(256, 64, 6e-6),
  rotateCase({ name: 'in place, 16×16 grid, 1×64 (micro self-attention q)', heads: 1, headDim: 64, side: 16, frames: 1, inPlace: true }),
  rotateCase({
    name: 'out of place, 32×32 × 3 frames repeated + 16 pointer tokens excluded, 1×256 (cross-attention k)',
    heads: 1, headDim: 256, side: 32, frames: 3, repeat: true, excluded: 16, inPlace: false,
  }),
  rotateCase({
    name: 'in place on the k part of a fused [N, 3C] buffer, 2 heads × 32, 9×9 grid ×2 + 3 excluded',
    heads: 2, headDim: 32, side: 9, frames: 2, repeat: true, excluded: 3, inPlace: true, offset: 64, rowStride: 3 * 64 + 2,
  }),
  rotateCase({ name: 'in place, 64×64 grid, 1×256 (memory attention at 1024 px)', heads: 1, headDim: 256, side: 64, frames: 1, inPlace: true }),
  rotateCase({ name: 'out of place, 7×7 grid, 3 heads × 12', heads: 3, headDim: 12, side: 7, frames: 1, inPlace: false }),
  rejects,
];
