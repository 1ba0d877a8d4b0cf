// Token MLPs (many small MLPs on single rows in one launch) vs an f64 reference on random inputs.
// Tolerance: each output is a dot product of ≤ 256 terms of O(1) values, summed in f32 (fma):
// errors stay a few ulp of the row's magnitude, rel_l2 ≤ 1e-6 and max_abs ≤ 1e-5·max|ref|.
// Outputs start as NaN in the jobs' ranges and as a known background elsewhere: a job that writes
// nothing, or writes outside its range, fails.
import { encodeTokenMlpJobs, tokenMlp, type TokenMlpJob, type TokenMlpLayer } from '../../src/kernels/token-mlp/token-mlp.js';
import { tokenMlpRef } from '../../src/kernels/token-mlp/token-mlp.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { randomArray } from '../helpers/random.js';

interface JobSpec {
  row: number;
  /** Channel widths, input first: [in, h1, ..., out]. */
  dims: number[];
  output: number;
  outOffset: number;
  sigmoid?: boolean;
  /** Layers without a bias. */
  noBias?: number[];
}

function tokenMlpCase(label: string, xRows: number, xCols: number, outSizes: number[], specs: JobSpec[], batch = 1, rowOffset = 0): KernelCase {
  return {
    name: `token-mlp ${label} rows=${xRows}x${xCols} B=${batch} jobs=${specs.length}${rowOffset ? ` rowOffset=${rowOffset}` : ''}`,
    async run(gpu) {
      // Pack weights (with gaps, so offsets matter) and build the jobs.
      let size = 3;
      const jobs: TokenMlpJob[] = specs.map((s) => ({
        row: s.row,
        output: s.output,
        outOffset: s.outOffset,
        sigmoid: s.sigmoid,
        layers: s.dims.slice(1).map((outDim, k): TokenMlpLayer => {
          const inDim = s.dims[k];
          const weightOffset = size;
          size += inDim * outDim + 1;
          const biasOffset = s.noBias?.includes(k) ? undefined : size;
          if (biasOffset !== undefined) size += outDim + 2;
          return { weightOffset, biasOffset, inDim, outDim, relu: k < s.dims.length - 2 };
        }),
      }));
      const weights = randomArray(size, size + 11, -1, 1);
      // Scale weights by 1/√in so that activations stay O(1) through the layers.
      for (const j of jobs) for (const l of j.layers) for (let i = 0; i < l.inDim * l.outDim; i++) weights[l.weightOffset + i] /= Math.sqrt(l.inDim);
      const x = randomArray(batch * xRows * xCols, xRows * 31 + xCols, -2, 2);
      const outs = outSizes.map((n, k) => randomArray(batch * n, 100 + k, 50, 60));
      for (let b = 0; b < batch; b++) {
        for (const j of jobs) {
          const n = outSizes[j.output];
          outs[j.output].fill(Number.NaN, b * n + j.outOffset, b * n + j.outOffset + j.layers[j.layers.length - 1].outDim);
        }
      }
      const tx = gpu.upload(x, [batch, xRows, xCols]);
      const tw = gpu.upload(weights, [size]);
      const table = encodeTokenMlpJobs(jobs);
      const tj = gpu.upload(table, [table.length], 'u32');
      const tout = outs.map((o, k) => gpu.upload(o, [batch, outSizes[k]]));
      tokenMlp(gpu, { x: tx, xCols, weights: tw, jobs, jobTable: tj, outputs: tout, batch, rowOffset });
      const ref = tokenMlpRef(x, xCols, weights, jobs, outs, batch, rowOffset);
      for (let k = 0; k < tout.length; k++) {
        assertClose(`${label} output ${k}`, await gpu.read(tout[k]), ref[k], { relL2: 1e-6, maxAbsRel: 1e-5 });
      }
      [tx, tw, tj, ...tout].forEach((t) => t.release());
    },
  };
}

export const cases: KernelCase[] = [
  tokenMlpCase('1 layer', 1, 1, [1], [{ row: 0, dims: [1, 1], output: 0, outOffset: 0 }]),
  tokenMlpCase(
    'odd sizes, no-bias layer, sigmoid, 2 outputs',
    5, 37, [3 * 13 + 2, 7],
    [
      { row: 4, dims: [37, 19, 13], output: 0, outOffset: 2 },
      { row: 1, dims: [37, 65, 70, 13], output: 0, outOffset: 15, noBias: [1] },
      { row: 1, dims: [37, 13], output: 0, outOffset: 28, sigmoid: true },
      { row: 2, dims: [37, 37, 5], output: 1, outOffset: 1, sigmoid: true },
    ],
  ),
  // The SAM mask decoder's heads at hidden dim 256: 4 hypernetworks (→ C/8) into hyper_in, the IoU
  // head (→ 4, sigmoid) and the object-score head (→ 1), rows of hs = [obj, iou, mask0..3, prompt...].
  tokenMlpCase(
    'decoder heads C=256',
    8, 256, [4 * 32, 4, 1],
    [
      ...[0, 1, 2, 3].map((i) => ({ row: 2 + i, dims: [256, 256, 256, 32], output: 0, outOffset: 32 * i })),
      { row: 1, dims: [256, 256, 256, 4], output: 1, outOffset: 0, sigmoid: true },
      { row: 0, dims: [256, 256, 256, 1], output: 2, outOffset: 0 },
    ],
  ),
  // Batched (several objects in one chain), and a row offset (the chosen token of a stack).
  tokenMlpCase(
    'batched, 3 outputs',
    7, 48, [50, 9, 3],
    [
      { row: 6, dims: [48, 48, 48, 17], output: 0, outOffset: 33 },
      { row: 0, dims: [48, 100, 9], output: 1, outOffset: 0, sigmoid: true },
      { row: 3, dims: [48, 3], output: 2, outOffset: 0 },
    ],
    3,
  ),
  tokenMlpCase('row offset', 4, 64, [64], [{ row: 0, dims: [64, 64, 64, 64], output: 0, outOffset: 0 }], 2, 3),
];
