// CPU reference of a row program (f64), over [B, rows] rows of strided inputs into copies of the outputs.
import type { RowProgram } from './token-rows.js';

export interface RowArray {
  data: Float32Array;
  rowStride: number;
  batchStride?: number;
}

export function tokenRowsRef(pr: RowProgram, rows: number, batch: number, inputs: RowArray[], outputs: RowArray[]): Float64Array[] {
  const outs = outputs.map((o) => Float64Array.from(o.data));
  const w = pr.weights;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < rows; r++) {
      const reg = new Float64Array(pr.regs).fill(Number.NaN);
      const at = (t: RowArray) => b * (t.batchStride ?? t.rowStride * rows) + r * t.rowStride;
      for (const op of pr.ops) {
        if (op.kind === 'load') {
          const t = inputs[op.input];
          for (let c = 0; c < op.width; c++) reg[op.dst + c] = t.data[at(t) + op.col + c];
        } else if (op.kind === 'linear') {
          const y = new Float64Array(op.outDim);
          for (let o = 0; o < op.outDim; o++) {
            let acc = 0;
            for (let k = 0; k < op.inDim; k++) acc += w[op.weightOffset + o * op.inDim + k] * reg[op.src + k];
            if (op.biasOffset !== undefined) acc += w[op.biasOffset + o];
            y[o] = op.relu ? Math.max(acc, 0) : acc;
          }
          reg.set(y, op.dst);
        } else if (op.kind === 'add') {
          for (let c = 0; c < op.width; c++) reg[op.dst + c] = reg[op.a + c] + reg[op.b + c];
        } else if (op.kind === 'layerNorm') {
          let mean = 0;
          for (let c = 0; c < op.width; c++) mean += reg[op.src + c];
          mean /= op.width;
          let v = 0;
          for (let c = 0; c < op.width; c++) v += (reg[op.src + c] - mean) ** 2;
          const inv = 1 / Math.sqrt(v / op.width + Math.fround(op.eps));
          for (let c = 0; c < op.width; c++) reg[op.dst + c] = (reg[op.src + c] - mean) * inv * w[op.gammaOffset + c] + w[op.betaOffset + c];
        } else {
          const t = outputs[op.output];
          for (let c = 0; c < op.width; c++) outs[op.output][at(t) + op.col + c] = reg[op.src + c];
        }
      }
    }
  }
  return outs;
}
