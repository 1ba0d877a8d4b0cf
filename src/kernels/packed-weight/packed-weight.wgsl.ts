// The dequantizing weight-load seam: WGSL that reads one weight matrix kept packed on the GPU
// (src/weights/packed.ts, layout in weights-tools/QUANT_LAYOUT.md "On the GPU") and returns f32
// values in registers. GEMM and conv kernels that take packed weights declare this instead of their
// float `b` / `w` binding and call `w_at(i)` (element i of the row-major [rows, cols] matrix) or
// `w_at4(i)` (elements i..i+3, i a multiple of 4 inside one row). The host passes the word offset
// of the scales and the scale group (cols for int8, G for int4) as the uniforms `p.q_scale_off`
// and `p.q_group`; since int4 rows are whole groups, element i's scale is scales[i / group].
// No format needs the shader-f16 feature: halves are decoded with unpack2x16float / bit shifts.
import type { WeightFormat } from '../../weights/packed.js';

const SCALE = /* wgsl */ `
fn w_scale(i: u32) -> f32 { return bitcast<f32>(wq[p.q_scale_off + i / p.q_group]); }`;

const LOADS: Record<WeightFormat, string> = {
  f32: /* wgsl */ `
fn w_at(i: u32) -> f32 { return bitcast<f32>(wq[i]); }
fn w_at4(i: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(vec4<u32>(wq[i], wq[i + 1u], wq[i + 2u], wq[i + 3u]));
}`,
  f16: /* wgsl */ `
fn w_at(i: u32) -> f32 { return unpack2x16float(wq[i >> 1u])[i & 1u]; }
fn w_at4(i: u32) -> vec4<f32> {
  let j = i >> 1u;
  return vec4<f32>(unpack2x16float(wq[j]), unpack2x16float(wq[j + 1u]));
}`,
  bf16: /* wgsl */ `
fn w_at(i: u32) -> f32 {
  let w = wq[i >> 1u];
  return bitcast<f32>(select(w << 16u, w & 0xffff0000u, (i & 1u) == 1u));
}
fn w_at4(i: u32) -> vec4<f32> {
  let j = i >> 1u;
  let w0 = wq[j];
  let w1 = wq[j + 1u];
  return bitcast<vec4<f32>>(vec4<u32>(w0 << 16u, w0 & 0xffff0000u, w1 << 16u, w1 & 0xffff0000u));
}`,
  // Four signed bytes per word, element 4k+j in bits 8j..8j+7; sign-extended by shifts.
  int8: /* wgsl */ `${SCALE}
fn w_at(i: u32) -> f32 {
  let b = wq[i >> 2u] << (24u - 8u * (i & 3u));
  return f32(bitcast<i32>(b) >> 24u) * w_scale(i);
}
fn w_at4(i: u32) -> vec4<f32> {
  let w = wq[i >> 2u];
  let q = bitcast<vec4<i32>>(vec4<u32>(w << 24u, w << 16u, w << 8u, w)) >> vec4<u32>(24u);
  return vec4<f32>(q) * w_scale(i);
}`,
  // Eight nibbles per word, element 8k+j in bits 4j..4j+3, value nibble − 8.
  int4: /* wgsl */ `${SCALE}
fn w_at(i: u32) -> f32 {
  let n = (wq[i >> 3u] >> (4u * (i & 7u))) & 0xfu;
  return (f32(n) - 8.0) * w_scale(i);
}
fn w_at4(i: u32) -> vec4<f32> {
  let w = wq[i >> 3u] >> (4u * (i & 7u));
  let n = (vec4<u32>(w) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(0xfu);
  return (vec4<f32>(n) - vec4<f32>(8.0)) * w_scale(i);
}`,
};

/** The `wq` binding and the w_at / w_at4 decoders for `format` (needs `p.q_scale_off`, `p.q_group`). */
export function weightSeam(format: WeightFormat, binding: number): string {
  return /* wgsl */ `
@group(0) @binding(${binding}) var<storage, read> wq: array<u32>;
${LOADS[format]}
`;
}
