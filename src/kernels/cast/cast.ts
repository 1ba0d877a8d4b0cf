// Launcher of the f32 ↔ f16 storage conversion (cast.wgsl.ts).
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type DType, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { castSource } from './cast.wgsl.js';

const WG = 256;

export type FloatDType = 'f32' | 'f16';

export function castProgram(src: GpuTensor, dst: GpuTensor): KernelProgram {
  const name = `cast-${src.dtype}-${dst.dtype}`;
  const float = (d: DType) => d === 'f32' || d === 'f16';
  check(float(src.dtype) && float(dst.dtype) && src.dtype !== dst.dtype, name, `converts between f32 and f16 only (${src.dtype} → ${dst.dtype})`);
  check(src.size === dst.size, name, `dst ${shapeStr(dst.shape)} does not hold the ${src.size} values of src ${shapeStr(src.shape)}`);
  return {
    name,
    source: () => castSource(src.dtype, dst.dtype),
    constants: { WG },
    bindings: [src, dst],
    uniforms: uniforms([['u32', src.size], ['u32', 0], ['u32', 0], ['u32', 0]]),
    workgroups: dispatch1d(src.size, WG),
    bytes: src.byteLength + dst.byteLength,
  };
}

/** A new tensor holding `src` converted to `dtype`. */
export function cast(gpu: Gpu, src: GpuTensor, dtype: FloatDType, label = `${src.label} ${dtype}`): GpuTensor {
  const out = gpu.empty(src.shape, dtype, label);
  gpu.run(castProgram(src, out));
  return out;
}
