// Launcher for the token-MLP kernel (see token-mlp.wgsl.ts): a list of jobs, each one input token
// row through one small MLP into a range of an output tensor, all in one dispatch (one workgroup
// per job and batch item).
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, type KernelProgram } from '../program.js';
import { JOB_HEADER_WORDS, JOB_WORDS, LAYER_WORDS, MAX_LAYERS, NO_BIAS, tokenMlpSource } from './token-mlp.wgsl.js';

const WG = 64;
const MAX_OUTPUTS = 3;

export interface TokenMlpLayer {
  /** Element offset of the [outDim, inDim] row-major weight in the packed weight buffer. */
  weightOffset: number;
  /** Element offset of the [outDim] bias, if any. */
  biasOffset?: number;
  inDim: number;
  outDim: number;
  /** ReLU after this layer. */
  relu: boolean;
}

export interface TokenMlpJob {
  /** Input row (of `xCols` channels) within one batch item of x, before `rowOffset`. */
  row: number;
  layers: TokenMlpLayer[];
  /** Which output tensor the result goes to, and where in one batch item of it. */
  output: number;
  outOffset: number;
  /** Sigmoid on the result. */
  sigmoid?: boolean;
}

/** The job table the kernel reads (u32 words, JOB_WORDS per job). */
export function encodeTokenMlpJobs(jobs: readonly TokenMlpJob[]): Uint32Array {
  const t = new Uint32Array(Math.max(1, jobs.length) * JOB_WORDS);
  jobs.forEach((job, i) => {
    const j = i * JOB_WORDS;
    t.set([job.row, job.layers.length, job.output, job.outOffset, job.sigmoid ? 1 : 0], j);
    job.layers.forEach((l, k) => {
      t.set([l.weightOffset, l.biasOffset ?? NO_BIAS, l.inDim, l.outDim, l.relu ? 1 : 0], j + JOB_HEADER_WORDS + k * LAYER_WORDS);
    });
  });
  return t;
}

export interface TokenMlpArgs {
  /** Token rows [B, rows, xCols] (any shape of B·rows·xCols f32). */
  x: GpuTensor;
  xCols: number;
  /** Packed f32 weights and biases. */
  weights: GpuTensor;
  /** The jobs, and their table on the GPU (encodeTokenMlpJobs of the same list). */
  jobs: readonly TokenMlpJob[];
  jobTable: GpuTensor;
  /** Destinations (1..3), each B items of equal size. */
  outputs: GpuTensor[];
  /** Batch items B (default 1): x and every output split into B equal items. */
  batch?: number;
  /** Added to every job's input row (e.g. the chosen token of a stack). Default 0. */
  rowOffset?: number;
}

export function tokenMlpProgram(a: TokenMlpArgs): KernelProgram {
  const name = 'token-mlp-f32';
  const batch = a.batch ?? 1;
  const rowOffset = a.rowOffset ?? 0;
  const { x, xCols, weights, jobs, outputs } = a;
  check(jobs.length > 0, name, 'no jobs');
  check(outputs.length >= 1 && outputs.length <= MAX_OUTPUTS, name, `takes 1 to ${MAX_OUTPUTS} outputs, got ${outputs.length}`);
  for (const t of [x, weights, ...outputs]) check(t.dtype === 'f32', name, `f32 tensors only, ${t.label} is ${t.dtype}`);
  check(a.jobTable.dtype === 'u32' && a.jobTable.size >= jobs.length * JOB_WORDS, name, `job table must be u32 with ${jobs.length * JOB_WORDS} words`);
  check(Number.isInteger(batch) && batch >= 1, name, `batch ${batch} must be a positive integer`);
  check(Number.isInteger(rowOffset) && rowOffset >= 0, name, `rowOffset ${rowOffset} must be a non-negative integer`);
  check(xCols > 0 && x.size % (batch * xCols) === 0, name, `x ${shapeStr(x.shape)} is not ${batch} items of ${xCols}-channel rows`);
  const xRows = x.size / batch / xCols;
  const outItem = outputs.map((o, k) => {
    check(o.size % batch === 0, name, `output ${k} ${shapeStr(o.shape)} does not split into ${batch} items`);
    return o.size / batch;
  });
  for (let k = 0; k < outputs.length; k++) {
    for (let m = k + 1; m < outputs.length; m++) check(outputs[k].buffer !== outputs[m].buffer, name, `outputs ${k} and ${m} alias`);
    check(outputs[k].buffer !== x.buffer && outputs[k].buffer !== weights.buffer, name, `output ${k} aliases an input`);
  }
  let maxDim = 1;
  let flops = 0;
  jobs.forEach((job, i) => {
    const what = `job ${i}`;
    check(job.layers.length >= 1 && job.layers.length <= MAX_LAYERS, name, `${what}: 1 to ${MAX_LAYERS} layers, got ${job.layers.length}`);
    check(job.row + rowOffset < xRows, name, `${what}: row ${job.row} + ${rowOffset} is outside x's ${xRows} rows`);
    check(job.layers[0].inDim === xCols, name, `${what}: first layer takes ${job.layers[0].inDim} channels, rows have ${xCols}`);
    job.layers.forEach((l, k) => {
      if (k > 0) check(l.inDim === job.layers[k - 1].outDim, name, `${what}: layer ${k} takes ${l.inDim} channels, layer ${k - 1} gives ${job.layers[k - 1].outDim}`);
      check(l.weightOffset + l.inDim * l.outDim <= weights.size, name, `${what}: layer ${k} weight lies outside the packed weights`);
      check(l.biasOffset === undefined || l.biasOffset + l.outDim <= weights.size, name, `${what}: layer ${k} bias lies outside the packed weights`);
      maxDim = Math.max(maxDim, l.inDim, l.outDim);
      flops += 2 * l.inDim * l.outDim;
    });
    const width = job.layers[job.layers.length - 1].outDim;
    check(job.output < outputs.length, name, `${what}: output ${job.output} of ${outputs.length}`);
    check(job.outOffset + width <= outItem[job.output], name, `${what}: writes [${job.outOffset}, ${job.outOffset + width}) past output ${job.output} (${outItem[job.output]} per item)`);
  });
  // Rounded up so that models of one hidden size share a pipeline.
  const MAXD = Math.ceil(maxDim / 64) * 64;
  check(2 * MAXD * 4 <= 16384, name, `rows of ${maxDim} channels do not fit workgroup memory`);
  const strides = [0, 1, 2].map((k) => (k < outputs.length ? outItem[k] : 0));
  return {
    name,
    variant: `out${outputs.length}`,
    source: () => tokenMlpSource(outputs.length),
    constants: { WG, MAXD },
    bindings: [x, weights, a.jobTable, ...outputs],
    uniforms: uniforms([
      ['u32', xCols], ['u32', xRows * xCols], ['u32', rowOffset], ['u32', 0],
      ['u32', strides[0]], ['u32', strides[1]], ['u32', strides[2]], ['u32', 0],
    ]),
    workgroups: [jobs.length, batch, 1],
    flops: flops * batch,
    bytes: 4 * (flops / 2) * batch,
  };
}

/** Runs the jobs (see TokenMlpArgs); writes only the jobs' ranges of the outputs. */
export function tokenMlp(gpu: Gpu, a: TokenMlpArgs): void {
  gpu.run(tokenMlpProgram(a));
}
