// Axial 2-D rotary table, a float32-faithful port of compute_axial_cis / init_t_xy in
// sam2/modeling/position_encoding.py. Built on the CPU because WGSL sin/cos lose accuracy at the
// angles used here (up to ~end_x rad) and because the reference computes the angles in float32.

import type { Gpu } from '../../runtime/gpu.js';
import type { GpuTensor } from '../../runtime/tensor.js';

export interface RopeGrid {
  /** Channels per head that are rotated (RoPEAttention: internal_dim / num_heads). Multiple of 4. */
  headDim: number;
  /** Grid width (x = t mod endX) and height (y = floor(t / endX)). */
  endX: number;
  endY: number;
  /** Default 10000 (RoPEAttention rope_theta). */
  theta?: number;
}

/** A table uploaded to the GPU: [endX·endY, headDim/2, 2] of (cos, sin), f32. */
export interface RopeTable {
  tensor: GpuTensor;
  headDim: number;
  endX: number;
  endY: number;
}

const f32 = Math.fround;

export function checkRopeGrid(g: RopeGrid): void {
  const { headDim, endX, endY } = g;
  if (!Number.isInteger(headDim) || headDim < 4 || headDim % 4 !== 0) {
    throw new Error(`rope: headDim ${headDim} must be a positive multiple of 4 (dim/4 x-pairs and dim/4 y-pairs)`);
  }
  if (!Number.isInteger(endX) || !Number.isInteger(endY) || endX < 1 || endY < 1) {
    throw new Error(`rope: grid ${endX}×${endY} must have positive integer sides`);
  }
}

/**
 * freqs_j = 1 / theta^((4j)/dim), j < dim/4, each step rounded to float32 as torch does:
 * `1.0 / (theta ** (torch.arange(0, dim, 4)[: dim // 4].float() / dim))`.
 */
export function ropeFrequencies(headDim: number, theta = 10000): Float32Array {
  const n = headDim / 4;
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const exponent = f32((4 * j) / headDim);
    out[j] = f32(1 / f32(Math.pow(theta, exponent)));
  }
  return out;
}

/**
 * cos/sin of the float32 angles `t_x·freqs` (pairs 0..dim/4-1) and `t_y·freqs` (pairs
 * dim/4..dim/2-1) for every grid token t, as torch.polar(ones, angles) gives them:
 * Float32Array [endX·endY, dim/2, 2] with (cos, sin) per pair.
 */
export function axialRopeTable(g: RopeGrid): Float32Array {
  checkRopeGrid(g);
  const { headDim, endX, endY } = g;
  const freqs = ropeFrequencies(headDim, g.theta ?? 10000);
  const quarter = headDim / 4;
  const half = headDim / 2;
  const out = new Float32Array(endX * endY * half * 2);
  for (let t = 0; t < endX * endY; t++) {
    const tx = t % endX;
    const ty = Math.floor(t / endX);
    for (let j = 0; j < quarter; j++) {
      const ax = f32(tx * freqs[j]);
      const ay = f32(ty * freqs[j]);
      const bx = (t * half + j) * 2;
      const by = (t * half + quarter + j) * 2;
      out[bx] = Math.cos(ax);
      out[bx + 1] = Math.sin(ax);
      out[by] = Math.cos(ay);
      out[by + 1] = Math.sin(ay);
    }
  }
  return out;
}

const cache = new WeakMap<Gpu, Map<string, RopeTable>>();

/**
 * The table for a grid, uploaded once per Gpu and kept for the Gpu's lifetime (RoPEAttention's
 * freqs_cis cache; a few MB at most: 64×64 tokens × 128 pairs × 8 B = 4 MiB).
 */
export function getRopeTable(gpu: Gpu, g: RopeGrid): RopeTable {
  checkRopeGrid(g);
  const key = `${g.headDim}:${g.endX}x${g.endY}:${g.theta ?? 10000}`;
  let perGpu = cache.get(gpu);
  if (!perGpu) cache.set(gpu, (perGpu = new Map()));
  let t = perGpu.get(key);
  if (!t) {
    const data = axialRopeTable(g);
    const tensor = gpu.upload(data, [g.endX * g.endY, g.headDim / 2, 2], 'f32', `rope-table ${key}`);
    perGpu.set(key, (t = { tensor, headDim: g.headDim, endX: g.endX, endY: g.endY }));
  }
  return t;
}
