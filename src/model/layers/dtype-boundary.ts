// Activation dtype at a component's boundary: a component running in f16 converts its inputs once
// on entry and hands f32 back on exit, so the components around it (and the host) are unaffected.
import { cast, type FloatDType } from '../../kernels/cast/cast.js';
import type { Gpu } from '../../runtime/gpu.js';
import type { GpuTensor } from '../../runtime/tensor.js';

/** Converts inputs to `dtype` where needed; `release()` frees only the converted copies. */
export class Boundary {
  private readonly owned: GpuTensor[] = [];

  constructor(
    private readonly gpu: Gpu,
    readonly dtype: FloatDType,
  ) {}

  /** `t` itself if it already has the component's dtype, else a converted copy. */
  in(t: GpuTensor): GpuTensor {
    if (t.dtype === this.dtype) return t;
    const c = cast(this.gpu, t, this.dtype);
    this.owned.push(c);
    return c;
  }

  release(): void {
    for (const t of this.owned) t.release();
    this.owned.length = 0;
  }
}

/** `t` as `dtype`: `t` itself if it has it, else a converted copy (and `t` is released). */
export function convertOwned(gpu: Gpu, t: GpuTensor, dtype: FloatDType): GpuTensor {
  if (t.dtype === dtype) return t;
  const c = cast(gpu, t, dtype, t.label);
  t.release();
  return c;
}

/** An output as f32 (see convertOwned). */
export function outF32(gpu: Gpu, t: GpuTensor): GpuTensor {
  return convertOwned(gpu, t, 'f32');
}
