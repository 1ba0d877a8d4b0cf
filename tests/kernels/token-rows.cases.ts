// Row programs on token rows vs an f64 interpreter of the same program, on random inputs.
// Tolerance: dot products of ≤ 2048 O(1) terms and LayerNorms summed in f32: rel_l2 ≤ 2e-6 and
// max_abs ≤ 2e-5·max|ref|. Outputs start as NaN in the stored column ranges and as a background
// elsewhere (strided rows leave gaps): a store that is skipped, or lands outside its range, fails.
import { RowProgramBuilder, tokenRows, type RowProgram, type RowTensor } from '../../src/kernels/token-rows/token-rows.js';
import { tokenRowsRef, type RowArray } from '../../src/kernels/token-rows/token-rows.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { randomArray } from '../helpers/random.js';

let seed = 1;
const weights = (inDim: number, outDim: number): Float32Array => randomArray(inDim * outDim, seed++, -1, 1).map((v) => v / Math.sqrt(inDim));
const vec = (n: number, lo = -1, hi = 1): Float32Array => randomArray(n, seed++, lo, hi);

interface Io {
  /** Row stride and width of the stored / loaded columns. */
  stride: number;
  batchStride?: number;
}

function rowsCase(label: string, rows: number, batch: number, inputs: Io[], outputs: Io[], make: (b: RowProgramBuilder) => void): KernelCase {
  return {
    name: `token-rows ${label} rows=${rows} B=${batch}`,
    async run(gpu) {
      const builder = new RowProgramBuilder();
      make(builder);
      const pr: RowProgram = builder.build();
      const size = (io: Io) => (batch - 1) * (io.batchStride ?? io.stride * rows) + rows * io.stride;
      const inArrays: RowArray[] = inputs.map((io, k) => ({ data: randomArray(size(io), 50 + k, -2, 2), rowStride: io.stride, batchStride: io.batchStride }));
      const outArrays: RowArray[] = outputs.map((io, k) => ({ data: randomArray(size(io), 70 + k, 50, 60), rowStride: io.stride, batchStride: io.batchStride }));
      // NaN where the program stores.
      for (const op of pr.ops) {
        if (op.kind !== 'store') continue;
        const o = outArrays[op.output];
        for (let b = 0; b < batch; b++) for (let r = 0; r < rows; r++) {
          const at = b * (o.batchStride ?? o.rowStride * rows) + r * o.rowStride + op.col;
          o.data.fill(Number.NaN, at, at + op.width);
        }
      }
      const ref = tokenRowsRef(pr, rows, batch, inArrays, outArrays);
      const up = (a: RowArray): RowTensor => ({ tensor: gpu.upload(a.data, [a.data.length]), rowStride: a.rowStride, batchStride: a.batchStride });
      const tin = inArrays.map(up);
      const tout = outArrays.map(up);
      const tw = gpu.upload(pr.weights, [pr.weights.length]);
      const tt = gpu.upload(pr.table, [pr.table.length], 'u32');
      tokenRows(gpu, { program: pr, weights: tw, table: tt, rows, batch, inputs: tin, outputs: tout });
      for (let k = 0; k < tout.length; k++) assertClose(`${label} output ${k}`, await gpu.read(tout[k].tensor), ref[k], { relL2: 2e-6, maxAbsRel: 2e-5 });
      [...tin, ...tout].forEach((t) => t.tensor.release());
      [tw, tt].forEach((t) => t.release());
    },
  };
}

export const cases: KernelCase[] = [
  rowsCase('load-store', 1, 1, [{ stride: 1 }], [{ stride: 1 }], (b) => b.store(b.load(0, 0, 1), 0, 0, 1)),
  // Every op, odd widths, strided rows with column offsets, two inputs, three outputs, a batch.
  rowsCase('every op, odd sizes', 5, 2, [{ stride: 41 }, { stride: 43, batchStride: 5 * 43 + 7 }], [{ stride: 40 }, { stride: 19 }, { stride: 3 }], (b) => {
    const x = b.load(0, 4, 37);
    const pe = b.load(1, 0, 37);
    const xp = b.add(x, pe, 37);
    const h = b.linear(xp, weights(37, 65), vec(65), 37, 65, true);
    const y = b.linear(h, weights(65, 37), undefined, 65, 37);
    const r = b.add(y, x, 37);
    const n = b.layerNorm(r, vec(37, 0.5, 1.5), vec(37), 1e-5);
    b.layerNorm(n, vec(37, 0.5, 1.5), vec(37), 1e-6, n); // in place
    b.store(n, 0, 3, 37);
    b.store(b.linear(n, weights(37, 19), vec(19), 37, 19), 1, 0, 19);
    b.store(b.linear(pe, weights(37, 3), vec(3), 37, 3), 2, 0, 3);
  }),
  // The two-way transformer's step after token→image attention at C = 256: out_proj (128 → 256)
  // + residual, LN, MLP 256 → 2048 → 256 + residual, LN, then the keys (q + PE) and values of the
  // image→token attention (256 → 128 each) stored side by side.
  rowsCase('two-way block tail C=256', 7, 1, [{ stride: 128 }, { stride: 512 }], [{ stride: 256 }, { stride: 256 }], (b) => {
    const o = b.load(0, 0, 128);
    const q = b.load(1, 0, 256);
    const pe = b.load(1, 256, 256);
    // Registers reused in place (adds, LayerNorms) and for the MLP output: 2048 + 4·256 + 128 floats.
    const t = b.linear(o, weights(128, 256), vec(256), 128, 256);
    b.add(t, q, 256, t);
    const q2 = b.layerNorm(t, vec(256, 0.5, 1.5), vec(256), 1e-5, t);
    const m = b.linear(b.linear(q2, weights(256, 2048), vec(2048), 256, 2048, true), weights(2048, 256), vec(256), 2048, 256, false, q);
    b.add(m, q2, 256, m);
    const q3 = b.layerNorm(m, vec(256, 0.5, 1.5), vec(256), 1e-5, m);
    b.store(q3, 0, 0, 256);
    b.add(q3, pe, 256, t);
    b.store(b.linear(t, weights(256, 128), vec(128), 256, 128, false, o), 1, 0, 128);
    b.store(b.linear(q3, weights(256, 128), vec(128), 256, 128, false, o), 1, 128, 128);
  }),
];
