// Launchers for the positional-encoding kernels (outputs [H, W, C], channels-last). These tables
// are constants of the grid size: build once per image size (or on the host with position-f32.ts
// and upload) and reuse.
import type { Gpu } from '../../runtime/gpu.js';
import { shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { rffDenseSource, sinePositionSource } from './position.wgsl.js';

const WG = 256;

export interface SinePositionOptions {
  /** Default 10000. */
  temperature?: number;
  /** Default 2π. */
  scale?: number;
}

function gridShape(out: GpuTensor, kernel: string): [number, number, number] {
  check(out.shape.length === 3, kernel, `out must be [H, W, C], got ${shapeStr(out.shape)}`);
  const [h, w, c] = out.shape;
  check(h >= 1 && w >= 1 && c >= 2 && c % 2 === 0, kernel, `out ${shapeStr(out.shape)} needs a non-empty grid and an even channel count`);
  return [h, w, c];
}

/** PositionEmbeddingSine(num_pos_feats = C, normalize=True) of out's H×W grid into out [H, W, C]. */
export function sinePositionProgram(out: GpuTensor, opts: SinePositionOptions = {}): KernelProgram {
  const name = `position-sine-${out.dtype}`;
  const [h, w, c] = gridShape(out, name);
  const temperature = opts.temperature ?? 10000;
  check(temperature > 0, name, `temperature must be positive, got ${temperature}`);
  const eps = Math.fround(1e-6);
  return {
    name,
    source: () => sinePositionSource(out.dtype),
    constants: { WG },
    bindings: [out],
    uniforms: uniforms([
      ['u32', h], ['u32', w], ['u32', c], ['u32', out.size],
      // upstream adds eps to the float32 last cumsum value in float32
      ['f32', Math.fround(h + eps)], ['f32', Math.fround(w + eps)], ['f32', opts.scale ?? 2 * Math.PI], ['f32', Math.log2(temperature)],
    ]),
    workgroups: dispatch1d(out.size, WG),
    flops: out.size * 20,
    bytes: out.size * 4,
  };
}

export function sinePosition(gpu: Gpu, h: number, w: number, c: number, opts: SinePositionOptions = {}, out?: GpuTensor): GpuTensor {
  const o = out ?? gpu.empty([h, w, c], 'f32', 'sine-pe');
  check(o.shape.length === 3 && o.shape[0] === h && o.shape[1] === w && o.shape[2] === c, 'position-sine', `out ${shapeStr(o.shape)} is not [${h}, ${w}, ${c}]`);
  gpu.run(sinePositionProgram(o, opts));
  return o;
}

/** PositionEmbeddingRandom.forward((H, W)) = get_dense_pe with gaussian G [2, C/2], into out [H, W, C]. */
export function rffDenseProgram(gauss: GpuTensor, out: GpuTensor): KernelProgram {
  const name = `position-rff-dense-${out.dtype}`;
  const [h, w, c] = gridShape(out, name);
  check(gauss.dtype === out.dtype, name, 'dtypes differ');
  check(gauss.shape.length === 2 && gauss.shape[0] === 2 && 2 * gauss.shape[1] === c, name,
    `gaussian matrix ${shapeStr(gauss.shape)} does not match [2, ${c / 2}] for out ${shapeStr(out.shape)}`);
  return {
    name,
    source: () => rffDenseSource(out.dtype),
    constants: { WG },
    bindings: [gauss, out],
    uniforms: uniforms([['u32', h], ['u32', w], ['u32', c], ['u32', out.size]]),
    workgroups: dispatch1d(out.size, WG),
    flops: out.size * 20,
    bytes: out.size * 4 + gauss.size * 4,
  };
}

export function rffDense(gpu: Gpu, gauss: GpuTensor, h: number, w: number, out?: GpuTensor): GpuTensor {
  const o = out ?? gpu.empty([h, w, 2 * (gauss.shape[1] ?? 0)], gauss.dtype, 'rff-dense-pe');
  gpu.run(rffDenseProgram(gauss, o));
  return o;
}
