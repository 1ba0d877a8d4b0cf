// A weight matrix kept packed on the GPU (f16, bf16, int8 or int4; f32 too, for kernels whose
// activations are f16 but whose weights stay f32): one u32 buffer of payload words then scales,
// read by kernels through the dequantizing seam of packed-weight.wgsl.ts.
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import type { PackedMatrix, WeightFormat } from '../../weights/packed.js';

export class PackedWeight {
  private constructor(
    readonly data: GpuTensor,
    readonly format: WeightFormat,
    /** Logical shape, e.g. [out, in] or a conv's [Cout, Cin, kh, kw]: rows = shape[0]. */
    readonly shape: readonly number[],
    readonly rows: number,
    readonly cols: number,
    readonly group: number,
    readonly scaleOffset: number,
  ) {}

  static upload(gpu: Gpu, m: PackedMatrix, shape: readonly number[] = [m.rows, m.cols], label = ''): PackedWeight {
    const cols = shape.slice(1).reduce((a, b) => a * b, 1);
    if (shape[0] !== m.rows || cols !== m.cols) throw new Error(`PackedWeight ${label}: shape ${shapeStr(shape)} is not the ${m.rows}x${m.cols} packed matrix`);
    const data = gpu.upload(m.words, [m.words.length], 'u32', label);
    return new PackedWeight(data, m.format, shape.slice(), m.rows, m.cols, m.group, m.scaleOffset);
  }

  /** The same packed matrix seen with another logical shape of the same rows (e.g. [out, in, 1, 1] → [out, in]). */
  reshape(shape: readonly number[]): PackedWeight {
    const cols = shape.slice(1).reduce((a, b) => a * b, 1);
    if (shape[0] !== this.rows || cols !== this.cols) throw new Error(`PackedWeight ${this.data.label}: cannot view ${shapeStr(this.shape)} as ${shapeStr(shape)}`);
    return new PackedWeight(this.data, this.format, shape.slice(), this.rows, this.cols, this.group, this.scaleOffset);
  }

  get size(): number {
    return this.rows * this.cols;
  }

  get byteLength(): number {
    return this.data.byteLength;
  }

  get label(): string {
    return this.data.label;
  }

  release(): void {
    this.data.release();
  }
}

/** A weight operand as kernels take it: a float tensor of the activation dtype, or packed. */
export type WeightOperand = GpuTensor | PackedWeight;

export function isPacked(w: WeightOperand): w is PackedWeight {
  return w instanceof PackedWeight;
}
