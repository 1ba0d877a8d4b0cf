// Launchers for axial RoPE on a token matrix view [N, heads·headDim], as RoPEAttention.forward
// applies it (sam2/modeling/sam/transformer.py): q with the grid table; k with the table repeated
// once per memory frame (rope_k_repeat) and its last num_k_exclude_rope tokens left alone.
import type { Gpu } from '../../runtime/gpu.js';
import type { GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { isTokenView, resolveView, type TokenView } from '../attention/token-view.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { getRopeTable, type RopeGrid, type RopeTable } from './rope-table.js';
import { ropeSource, type RopeMode } from './rope.wgsl.js';

export interface RopeShape {
  /** Tokens in the view, including the excluded tail. */
  tokens: number;
  heads: number;
  /** Must equal the table's headDim. */
  headDim: number;
  /**
   * Token t uses grid position t mod (endX·endY) (rope_k_repeat). Without it the rotated tokens
   * must be exactly one grid; with it, a whole number of grids.
   */
  repeat?: boolean;
  /** The last n tokens are not rotated (object-pointer tokens, num_k_exclude_rope). Default 0. */
  numExcludedTail?: number;
}

const WG = 256;

/**
 * Rotates `x` (a [tokens, heads·headDim] view) by `table`. With `out` the result goes there (the
 * excluded tail is copied); without it `x` is rotated in place.
 */
export function ropeProgram(x: GpuTensor | TokenView, table: RopeTable, s: RopeShape, out?: GpuTensor | TokenView): KernelProgram {
  const xt = isTokenView(x) ? x.tensor : x;
  const mode: RopeMode = out ? 'copy' : 'inplace';
  const name = `rope-axial-${xt.dtype}`;
  const { tokens, heads, headDim } = s;
  const excluded = s.numExcludedTail ?? 0;
  for (const [n, v] of [['tokens', tokens], ['heads', heads]] as const) {
    check(Number.isInteger(v) && v >= 1, name, `${n} must be a positive integer, got ${v}`);
  }
  check(headDim === table.headDim, name, `headDim ${headDim} does not match the table's ${table.headDim}`);
  check(Number.isInteger(excluded) && excluded >= 0 && excluded <= tokens, name, `numExcludedTail ${excluded} must be in [0, ${tokens}]`);
  const grid = table.endX * table.endY;
  const rotated = tokens - excluded;
  if (s.repeat) {
    check(rotated % grid === 0, name, `${rotated} rotated tokens are not a whole number of ${table.endX}×${table.endY} grids`);
  } else {
    check(rotated === grid, name, `${rotated} rotated tokens do not match the ${table.endX}×${table.endY} grid (set repeat for several frames)`);
  }
  const c = heads * headDim;
  const src = resolveView(x, 1, tokens, c, name, 'x');
  const dst = out ? resolveView(out, 1, tokens, c, name, 'out') : src;
  check(dst.tensor.dtype === src.tensor.dtype, name, 'x and out must share one dtype');
  if (out) check(dst.tensor.buffer !== src.tensor.buffer, name, 'out must not share a buffer with x (omit out to rotate in place)');
  check(table.tensor.dtype === 'f32', name, 'the table must be f32');
  const processed = mode === 'copy' ? tokens : rotated;
  const pairs = processed * (c / 2);
  const elem = src.tensor.dtype === 'f16' ? 2 : 4;
  return {
    name,
    variant: mode,
    source: () => ropeSource(src.tensor.dtype, mode),
    constants: { WG },
    bindings: mode === 'copy' ? [src.tensor, table.tensor, dst.tensor] : [src.tensor, table.tensor],
    uniforms: uniforms([
      ['u32', pairs], ['u32', c / 2], ['u32', headDim / 2], ['u32', rotated], ['u32', grid],
      ['u32', src.offset], ['u32', src.rowStride], ['u32', dst.offset], ['u32', dst.rowStride],
    ]),
    workgroups: dispatch1d(pairs, WG),
    flops: 6 * rotated * (c / 2),
    bytes: 2 * processed * c * elem + rotated * (c / 2) * 8,
  };
}

/**
 * Rotates `x` by the axial table of `grid` (built and uploaded once per grid, see getRopeTable).
 * In place unless `out` is given; returns the tensor holding the result.
 */
export function rope(gpu: Gpu, x: GpuTensor | TokenView, grid: RopeGrid, s: Omit<RopeShape, 'headDim'>, out?: GpuTensor | TokenView): GpuTensor {
  const table = getRopeTable(gpu, grid);
  gpu.run(ropeProgram(x, table, { ...s, headDim: grid.headDim }, out));
  const o = out ?? x;
  return isTokenView(o) ? o.tensor : o;
}
