// Dense conv2d with packed weights: the direct conv's weight-load seam (w_at) decoding f16, bf16,
// int8 (one scale per output channel) and int4 (groups along the flattened Cin·kh·kw filter)
// against the float64 reference on the weights the CPU decodes from the same words. The
// dequantized values are exact, so the float tolerance of conv.cases.ts holds (f16 activations
// add one f16 rounding of the output).
import { conv2d, conv2dOutputShape, conv2dProgram, type Conv2dOptions } from '../../src/kernels/conv/conv.js';
import { conv2dRef } from '../../src/kernels/conv/conv.ref.js';
import { PackedWeight } from '../../src/kernels/packed-weight/packed-weight.js';
import type { DType } from '../../src/runtime/tensor.js';
import { packMatrix, unpackMatrix, type WeightFormat } from '../../src/weights/packed.js';
import { assertClose } from '../helpers/compare.js';
import { readAsF32, roundToF16, uploadAs } from '../helpers/f16.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

interface Spec {
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  format: WeightFormat;
  groupSize?: number;
  dtype?: DType;
}

function packedConvCase(s: Spec): KernelCase {
  const dtype = s.dtype ?? 'f32';
  const opts: Conv2dOptions = { stride: s.stride, padding: s.pad };
  const xShape = [s.h, s.w, s.cin];
  const wShape = [s.cout, s.cin, s.k, s.k];
  const cols = s.cin * s.k * s.k;
  return {
    name: `conv2d packed ${s.format}${s.groupSize ? `-g${s.groupSize}` : ''} act=${dtype}: ${s.k}x${s.k} s${s.stride} p${s.pad} ${s.cin}->${s.cout} on ${s.h}x${s.w}`,
    async run(gpu) {
      if (dtype === 'f16' && !gpu.features.f16) return; // no f16 storage on this adapter (SwiftShader in Chromium)
      const seed = s.h * 131 + s.w * 7 + s.cin * 3 + s.cout + s.k;
      let x = randomArray(s.h * s.w * s.cin, seed, -1, 1);
      let bias = randomArray(s.cout, seed + 2, -0.5, 0.5);
      if (dtype === 'f16') [x, bias] = [roundToF16(x), roundToF16(bias)];
      const lim = Math.sqrt(3 / cols);
      const packed = packMatrix(randomArray(s.cout * cols, seed + 1, -lim, lim), s.cout, cols, s.format, { groupSize: s.groupSize });
      const w = PackedWeight.upload(gpu, packed, wShape, 'conv w');
      const outShape = conv2dOutputShape(xShape, wShape, opts);
      const n = outShape.reduce((a, b) => a * b, 1);
      const tx = uploadAs(gpu, x, xShape, dtype);
      const tb = uploadAs(gpu, bias, [s.cout], dtype);
      const out = uploadAs(gpu, nanArray(n), outShape, dtype);
      const name = conv2dProgram(tx, w, tb, out, opts).name;
      if (!name.endsWith(`-w${s.format}`)) throw new Error(`program ${name} does not read the packed weight`);
      conv2d(gpu, tx, w, tb, opts, out);
      const ref = conv2dRef(x, unpackMatrix(packed), bias, {
        batch: 1, inH: s.h, inW: s.w, cin: s.cin, cout: s.cout, kh: s.k, kw: s.k,
        strideY: s.stride, strideX: s.stride, padY: s.pad, padX: s.pad, groups: 1, activation: 'none',
      });
      const tol = dtype === 'f16' ? { relL2: 8e-4, maxAbsRel: 2e-3 } : { relL2: 2e-6, maxAbsRel: 1e-5 };
      assertClose(name, await readAsF32(gpu, out), ref, tol, outShape);
      [tx, tb, out].forEach((t) => t.release());
      w.release();
    },
  };
}

// The decoders themselves are covered format by format in linear-packed.cases.ts; these cases check
// the conv's indexing into them (per-channel rows, groups along the filter, f16 activations), each
// new pipeline costing seconds of lavapipe compile time.
export const cases: KernelCase[] = [
  packedConvCase({ h: 37, w: 29, cin: 3, cout: 21, k: 7, stride: 4, pad: 3, format: 'int8' }),
  packedConvCase({ h: 18, w: 15, cin: 32, cout: 13, k: 3, stride: 2, pad: 1, format: 'int4', groupSize: 32 }),
  packedConvCase({ h: 16, w: 16, cin: 16, cout: 20, k: 2, stride: 2, pad: 0, format: 'int4', groupSize: 64 }),
  packedConvCase({ h: 21, w: 19, cin: 5, cout: 9, k: 3, stride: 2, pad: 1, format: 'int8', dtype: 'f16' }),
];
