// Host helpers for f16 tensors in kernel tests: values are rounded to f16 on upload, read back as f32.
import { float16ToFloat32Array, float32ToFloat16Array } from '../../src/io/half.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { DType, GpuTensor } from '../../src/runtime/tensor.js';

/** The values an f16 tensor holds after upload (round to nearest even). */
export function roundToF16(x: Float32Array): Float32Array {
  return float16ToFloat32Array(float32ToFloat16Array(x));
}

/** Uploads f32 host data as `dtype` (f16 rounds). */
export function uploadAs(gpu: Gpu, x: Float32Array, shape: readonly number[], dtype: DType): GpuTensor {
  return dtype === 'f16' ? gpu.upload(float32ToFloat16Array(x), shape, 'f16') : gpu.upload(x, shape, 'f32');
}

/** Reads an f32 or f16 tensor as f32 values. */
export async function readAsF32(gpu: Gpu, t: GpuTensor): Promise<Float32Array> {
  if (t.dtype === 'f16') return float16ToFloat32Array(new Uint16Array(await gpu.readRaw(t)));
  return gpu.read(t);
}
