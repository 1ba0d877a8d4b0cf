// Uploads host float32 data as a tensor of the given float storage type (f16 rounds to nearest even).
import { float32ToFloat16Array } from '../../io/half.js';
import type { FloatDType } from '../../kernels/cast/cast.js';
import type { Gpu } from '../../runtime/gpu.js';
import type { GpuTensor } from '../../runtime/tensor.js';

export function uploadFloat(gpu: Gpu, data: Float32Array, shape: readonly number[], dtype: FloatDType, label = ''): GpuTensor {
  return dtype === 'f16' ? gpu.upload(float32ToFloat16Array(data), shape, 'f16', label) : gpu.upload(data, shape, 'f32', label);
}
