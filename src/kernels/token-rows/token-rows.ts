// Row programs on token rows (see token-rows.wgsl.ts): `RowProgramBuilder` assembles the ops and
// packs their f32 weights once; `tokenRows` launches a built program over [B, rows] token rows, one
// workgroup per row.
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, type KernelProgram } from '../program.js';
import { INPUTS, NO_BIAS, OP, OP_WORDS, OUTPUTS, tokenRowsSource } from './token-rows.wgsl.js';

const NAME = 'token-rows-f32';
const WG = 64;
/** Register space limit: 16 KiB of workgroup memory less the reduction scratch. */
export const MAX_REGS = 4096 - WG;

export type RowOp =
  | { kind: 'load'; input: number; col: number; width: number; dst: number }
  | { kind: 'linear'; src: number; dst: number; inDim: number; outDim: number; weightOffset: number; biasOffset?: number; relu: boolean }
  | { kind: 'add'; a: number; b: number; dst: number; width: number }
  | { kind: 'layerNorm'; src: number; dst: number; width: number; gammaOffset: number; betaOffset: number; eps: number }
  | { kind: 'store'; src: number; output: number; col: number; width: number };

/** A built program: its ops (also as the u32 table), the packed weights and the register space it needs. */
export interface RowProgram {
  ops: RowOp[];
  table: Uint32Array;
  weights: Float32Array;
  regs: number;
}

/** Assembles a row program; registers and weight offsets are allocated as ops are added. */
export class RowProgramBuilder {
  private readonly ops: RowOp[] = [];
  private readonly chunks: Float32Array[] = [];
  private weightSize = 0;
  private regTop = 0;

  /** A fresh register of `width` floats (its offset). */
  reg(width: number): number {
    const r = this.regTop;
    this.regTop += width;
    check(this.regTop <= MAX_REGS, NAME, `program needs ${this.regTop} register floats, at most ${MAX_REGS} fit`);
    return r;
  }

  /** Appends f32 data to the packed weights; returns its offset. */
  weight(data: Float32Array): number {
    const at = this.weightSize;
    this.chunks.push(data);
    this.weightSize += data.length;
    return at;
  }

  load(input: number, col: number, width: number, dst = this.reg(width)): number {
    check(input >= 0 && input < INPUTS, NAME, `input ${input} of ${INPUTS}`);
    this.ops.push({ kind: 'load', input, col, width, dst });
    return dst;
  }

  /** dst = act(W·src + b), W [outDim, inDim] row-major. */
  linear(src: number, weight: Float32Array, bias: Float32Array | undefined, inDim: number, outDim: number, relu = false, dst = this.reg(outDim)): number {
    check(weight.length === inDim * outDim, NAME, `weight of ${weight.length} floats is not [${outDim}, ${inDim}]`);
    check(!bias || bias.length === outDim, NAME, `bias of ${bias?.length} floats, expected ${outDim}`);
    check(dst + outDim <= src || src + inDim <= dst, NAME, 'a linear op cannot write over its input');
    const weightOffset = this.weight(weight);
    const biasOffset = bias ? this.weight(bias) : undefined;
    this.ops.push({ kind: 'linear', src, dst, inDim, outDim, weightOffset, biasOffset, relu });
    return dst;
  }

  add(a: number, b: number, width: number, dst = this.reg(width)): number {
    this.ops.push({ kind: 'add', a, b, dst, width });
    return dst;
  }

  layerNorm(src: number, gamma: Float32Array, beta: Float32Array, eps: number, dst = this.reg(gamma.length)): number {
    check(gamma.length === beta.length, NAME, 'LayerNorm γ and β differ in size');
    check(eps > 0, NAME, `eps must be positive, got ${eps}`);
    this.ops.push({ kind: 'layerNorm', src, dst, width: gamma.length, gammaOffset: this.weight(gamma), betaOffset: this.weight(beta), eps });
    return dst;
  }

  store(src: number, output: number, col: number, width: number): void {
    check(output >= 0 && output < OUTPUTS, NAME, `output ${output} of ${OUTPUTS}`);
    this.ops.push({ kind: 'store', src, output, col, width });
  }

  build(): RowProgram {
    check(this.ops.length > 0, NAME, 'empty program');
    const table = new Uint32Array(this.ops.length * OP_WORDS);
    const f = new Float32Array(1);
    const bits = new Uint32Array(f.buffer);
    this.ops.forEach((op, i) => {
      let words: number[];
      switch (op.kind) {
        case 'load': words = [OP.load, op.input, op.col, op.width, op.dst]; break;
        case 'linear': words = [OP.linear, op.src, op.dst, op.inDim, op.outDim, op.weightOffset, op.biasOffset ?? NO_BIAS, op.relu ? 1 : 0]; break;
        case 'add': words = [OP.add, op.a, op.b, op.dst, op.width]; break;
        case 'layerNorm': f[0] = op.eps; words = [OP.layerNorm, op.src, op.dst, op.width, op.gammaOffset, op.betaOffset, bits[0]]; break;
        case 'store': words = [OP.store, op.src, op.output, op.col, op.width]; break;
      }
      table.set(words, i * OP_WORDS);
    });
    const weights = new Float32Array(Math.max(1, this.weightSize));
    let at = 0;
    for (const c of this.chunks) weights.set(c, (at += c.length) - c.length);
    return { ops: [...this.ops], table, weights, regs: Math.max(this.regTop, 1) };
  }
}

/** Rows of an input or output: row r of batch item b starts at b·batchStride + r·rowStride. */
export interface RowTensor {
  tensor: GpuTensor;
  rowStride: number;
  /** Default rowStride · rows. */
  batchStride?: number;
}

export interface TokenRowsArgs {
  program: RowProgram;
  /** The program's weights and op table on the GPU (uploads of program.weights / program.table). */
  weights: GpuTensor;
  table: GpuTensor;
  rows: number;
  batch?: number;
  /** Up to 2 inputs and 3 outputs, as the program's ops number them. */
  inputs: RowTensor[];
  outputs: RowTensor[];
}

function resolve(t: RowTensor | undefined, rows: number, batch: number, what: string, widest: number): { row: number; batch: number } {
  if (!t) return { row: 0, batch: 0 };
  const batchStride = t.batchStride ?? t.rowStride * rows;
  check(t.tensor.dtype === 'f32', NAME, `${what} must be f32, got ${t.tensor.dtype}`);
  check(widest <= t.rowStride, NAME, `${what}: the program reaches column ${widest}, rows are ${t.rowStride} apart`);
  const last = (batch - 1) * batchStride + (rows - 1) * t.rowStride + widest;
  check(last <= t.tensor.size, NAME, `${what} ${shapeStr(t.tensor.shape)} is too small for ${batch}×${rows} rows of stride ${t.rowStride}`);
  return { row: t.rowStride, batch: batchStride };
}

/** The launch; `dummies` fills unused output slots (distinct buffers: writable bindings must not alias). */
export function tokenRowsProgram(a: TokenRowsArgs, dummies: GpuTensor[]): KernelProgram {
  const { program: pr, rows } = a;
  const batch = a.batch ?? 1;
  check(Number.isInteger(rows) && rows >= 1 && Number.isInteger(batch) && batch >= 1, NAME, `rows ${rows} and batch ${batch} must be positive integers`);
  check(a.inputs.length >= 1 && a.inputs.length <= INPUTS && a.outputs.length >= 1 && a.outputs.length <= OUTPUTS, NAME, `takes 1..${INPUTS} inputs and 1..${OUTPUTS} outputs`);
  check(a.weights.size >= pr.weights.length && a.table.dtype === 'u32' && a.table.size >= pr.table.length, NAME, 'weights or op table smaller than the program');
  const reach = (kind: 'load' | 'store', slot: number): number =>
    Math.max(0, ...pr.ops.filter((o) => o.kind === kind && (kind === 'load' ? (o as { input: number }).input : (o as { output: number }).output) === slot).map((o) => (o as { col: number }).col + (o as { width: number }).width));
  for (let k = 0; k < INPUTS; k++) check(reach('load', k) === 0 || a.inputs[k], NAME, `the program loads input ${k}, which is not given`);
  for (let k = 0; k < OUTPUTS; k++) check(reach('store', k) === 0 || a.outputs[k], NAME, `the program stores output ${k}, which is not given`);
  const ins = [0, 1].map((k) => resolve(a.inputs[k], rows, batch, `input ${k}`, reach('load', k)));
  const outs = [0, 1, 2].map((k) => resolve(a.outputs[k], rows, batch, `output ${k}`, reach('store', k)));
  const outTensors = a.outputs.map((o) => o.tensor);
  for (let i = 0; i < outTensors.length; i++) {
    for (let j = i + 1; j < outTensors.length; j++) check(outTensors[i].buffer !== outTensors[j].buffer, NAME, `outputs ${i} and ${j} alias`);
    for (const t of a.inputs) check(t.tensor.buffer !== outTensors[i].buffer, NAME, `output ${i} aliases an input`);
  }
  let flops = 0;
  for (const o of pr.ops) if (o.kind === 'linear') flops += 2 * o.inDim * o.outDim;
  // Rounded up so that programs of similar size share a pipeline.
  const REGS = Math.ceil(pr.regs / 256) * 256;
  check(REGS <= MAX_REGS + WG, NAME, `program needs ${pr.regs} register floats`);
  return {
    name: NAME,
    source: tokenRowsSource,
    constants: { WG, REGS: Math.min(REGS, MAX_REGS) },
    bindings: [a.inputs[0].tensor, (a.inputs[1] ?? a.inputs[0]).tensor, a.weights, a.table, ...outTensors, ...dummies.slice(0, OUTPUTS - outTensors.length)],
    uniforms: uniforms([
      ['u32', rows], ['u32', pr.ops.length], ['u32', 0], ['u32', 0],
      ['u32', ins[0].row], ['u32', ins[0].batch], ['u32', ins[1].row], ['u32', ins[1].batch],
      ['u32', outs[0].row], ['u32', outs[0].batch], ['u32', outs[1].row], ['u32', outs[1].batch],
      ['u32', outs[2].row], ['u32', outs[2].batch], ['u32', 0], ['u32', 0],
    ]),
    workgroups: [rows, batch, 1],
    flops: flops * rows * batch,
    bytes: 2 * flops * batch,
  };
}

/** Runs a row program (see TokenRowsArgs). */
export function tokenRows(gpu: Gpu, a: TokenRowsArgs): void {
  const dummies = Array.from({ length: OUTPUTS - a.outputs.length }, () => gpu.empty([1], 'f32', 'token-rows unused output'));
  try {
    gpu.run(tokenRowsProgram(a, dummies));
  } finally {
    for (const d of dummies) d.release();
  }
}
