// Per-axis constants of PyTorch's interpolation, shared by the resize launchers (uniforms) and the
// CPU references: float32 exactly as aten/src/ATen/native/UpSample.h and cpu/UpSampleKernel.cpp.
const f = Math.fround;

/** PyTorch's scale for `size=` calls: float(in) / out, rounded to float32 (trap T31). */
export function resizeScale(inSize: number, outSize: number): number {
  return f(inSize / outSize);
}

/** Parameters of PyTorch's antialiased linear filter along one axis. */
export interface AntialiasAxis {
  scale: number;
  /** Filter half-width in input pixels: scale when downsampling, else 1 (float32). */
  support: number;
  /** 1/scale when downsampling, else 1 (float32). */
  invscale: number;
  /** max_interp_size = ceil(support)·2 + 1: the most taps an output index can have. */
  maxTaps: number;
}

export function antialiasAxis(inSize: number, outSize: number): AntialiasAxis {
  const scale = resizeScale(inSize, outSize);
  const support = scale >= 1 ? scale : 1; // (interp_size / 2) · scale with interp_size = 2
  const invscale = scale >= 1 ? f(1 / scale) : 1;
  return { scale, support, invscale, maxTaps: Math.ceil(support) * 2 + 1 };
}
