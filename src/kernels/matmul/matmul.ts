// Launchers for the GEMM family: `linear` (torch.nn.Linear / 1×1 conv in NHWC, with fused bias,
// activation and residual) and `matmul` (batched a·b or a·bᵀ). All of them build one program of the
// register-blocked kernels in matmul.wgsl.ts, so the whole family compiles at most three pipelines
// per element type: vec4 B-as-[N,K], vec4 B-as-[K,N], and the scalar fallback for odd K or N.
import type { Gpu } from '../../runtime/gpu.js';
import { numel, shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, MAX_WORKGROUPS_PER_DIM, type KernelProgram } from '../program.js';
import {
  ACTIVATION_CODE,
  GEMM_TILE_M,
  GEMM_TILE_N,
  gemmScalarSource,
  gemmVec4Source,
  RESIDUAL_MODE,
  type Activation,
  type BLayout,
} from './matmul.wgsl.js';

export type { Activation } from './matmul.wgsl.js';

/** Lanes per workgroup; each lane owns GEMM_TILE_N columns of the same GEMM_TILE_M rows. */
const WG = 8;

interface GemmSpec {
  /** For error messages: `linear` or `matmul`. */
  op: string;
  a: GpuTensor;
  b: GpuTensor;
  out: GpuTensor;
  bias?: GpuTensor;
  residual?: GpuTensor;
  batch: number;
  m: number;
  n: number;
  k: number;
  /** Element strides between batch slices of a and b (0 broadcasts one slice). */
  aBatch: number;
  bBatch: number;
  layout: BLayout;
  act: Activation;
  alpha: number;
}

/** Workgroup grid: x over column blocks, (y, z) folding batch × row blocks past 65 535. */
export function gemmWorkgroups(batch: number, m: number, n: number): [number, number, number] {
  const x = Math.max(1, Math.ceil(n / (GEMM_TILE_N * WG)));
  const blocks = Math.max(1, batch * Math.ceil(m / GEMM_TILE_M));
  const z = Math.ceil(blocks / MAX_WORKGROUPS_PER_DIM);
  return [x, Math.ceil(blocks / z), z];
}

function gemmProgram(s: GemmSpec): KernelProgram {
  const { a, b, out, bias, residual, batch, m, n, k } = s;
  const dtype = a.dtype;
  const vec4 = k % 4 === 0 && (s.layout === 'nk' || n % 4 === 0);
  const strategy = vec4 ? `${s.layout}4` : 'scalar';
  const name = `matmul-regblock-${strategy}-${dtype}`;
  const where = `${s.op} (${name})`;
  check(dtype === 'f32' || dtype === 'f16', where, `unsupported dtype ${dtype}`);
  for (const [label, t] of [['b', b], ['bias', bias], ['residual', residual], ['out', out]] as const) {
    if (t) check(t.dtype === dtype, where, `${label} is ${t.dtype} but a is ${dtype}`);
  }
  check(m > 0 && n > 0 && k > 0, where, `empty product M=${m} N=${n} K=${k}`);
  check(out.size === batch * m * n, where, `out ${shapeStr(out.shape)} does not hold ${batch}×${m}×${n} results`);
  for (const [label, t] of [['a', a], ['b', b], ['bias', bias]] as const) {
    check(!t || t.buffer !== out.buffer, where, `out aliases input ${label}; use a separate output tensor`);
  }
  let resMode: number = RESIDUAL_MODE.none;
  if (residual) {
    check(residual.size === out.size, where, `residual ${shapeStr(residual.shape)} does not match out ${shapeStr(out.shape)}`);
    if (residual.buffer === out.buffer) {
      check(residual.offset === out.offset, where, 'residual overlaps out at a different offset');
      resMode = RESIDUAL_MODE.inPlace;
    } else {
      resMode = RESIDUAL_MODE.binding;
    }
  }
  const [bStrideN, bStrideK] = s.layout === 'nk' ? [k, 1] : [1, n];
  const bytesPer = dtype === 'f16' ? 2 : 4;
  return {
    name,
    source: () => (vec4 ? gemmVec4Source(s.layout, dtype) : gemmScalarSource(dtype)),
    constants: { WG },
    // Unused optional inputs are bound to `a` (read-only aliasing is allowed) and switched off by uniforms.
    bindings: [a, b, bias ?? a, resMode === RESIDUAL_MODE.binding ? residual! : a, out],
    uniforms: uniforms([
      ['u32', m], ['u32', n], ['u32', k], ['u32', batch],
      ['u32', Math.ceil(m / GEMM_TILE_M)], ['u32', s.aBatch], ['u32', s.bBatch], ['u32', m * n],
      ['u32', bStrideN], ['u32', bStrideK], ['u32', bias ? 1 : 0], ['u32', ACTIVATION_CODE[s.act]],
      ['u32', resMode], ['f32', s.alpha],
    ]),
    workgroups: gemmWorkgroups(batch, m, n),
    flops: 2 * batch * m * n * k,
    bytes: bytesPer * (a.size + b.size + out.size * (resMode ? 2 : 1) + (bias ? n : 0)),
  };
}

export interface LinearOptions {
  /** Activation applied after the bias (exact erf GELU, as nn.GELU()). */
  act?: Activation;
  /** Added after the activation and scaling; may be `out` itself for an in-place `out += linear(x)`. */
  residual?: GpuTensor;
  /** Scales act(x·Wᵀ + b) before the residual is added. */
  alpha?: number;
}

/**
 * out = alpha · act(x·Wᵀ + bias) + residual, with x [..., K] (leading dims flattened into M),
 * W [N, K] (PyTorch Linear layout), bias [N], residual and out [..., N].
 */
export function linearProgram(
  x: GpuTensor,
  w: GpuTensor,
  bias: GpuTensor | undefined,
  out: GpuTensor,
  opts: LinearOptions = {},
): KernelProgram {
  check(x.shape.length >= 1, 'linear', `x ${shapeStr(x.shape)} has no feature axis`);
  check(w.shape.length === 2, 'linear', `W ${shapeStr(w.shape)} must be [out_features, in_features]`);
  const [n, k] = w.shape;
  const kx = x.shape[x.shape.length - 1];
  check(kx === k, 'linear', `x ${shapeStr(x.shape)} has ${kx} features but W ${shapeStr(w.shape)} expects ${k}`);
  check(!bias || bias.size === n, 'linear', `bias ${bias && shapeStr(bias.shape)} does not match ${n} outputs`);
  const m = numel(x.shape.slice(0, -1));
  return gemmProgram({
    op: 'linear', a: x, b: w, out, bias, residual: opts.residual,
    batch: 1, m, n, k, aBatch: 0, bBatch: 0, layout: 'nk', act: opts.act ?? 'none', alpha: opts.alpha ?? 1,
  });
}

export function linear(
  gpu: Gpu,
  x: GpuTensor,
  w: GpuTensor,
  bias?: GpuTensor,
  opts: LinearOptions = {},
  out?: GpuTensor,
): GpuTensor {
  const o = out ?? gpu.empty([...x.shape.slice(0, -1), w.shape[0]], x.dtype, 'linear');
  gpu.run(linearProgram(x, w, bias, o, opts));
  return o;
}

export interface MatmulOptions {
  /** b is [B, N, K] (multiply by its transpose) instead of [B, K, N]. */
  transB?: boolean;
}

function as3d(t: GpuTensor, what: string): [number, number, number] {
  const s = t.shape;
  check(s.length === 2 || s.length === 3, 'matmul', `${what} ${shapeStr(s)} must be [M, K] or [B, M, K]`);
  return s.length === 2 ? [1, s[0], s[1]] : [s[0], s[1], s[2]];
}

/**
 * Batched out [B, M, N] = a [B, M, K] · b [B, K, N] (or · b[B, N, K]ᵀ with transB). 2-D operands
 * count as batch 1, and a batch of 1 on either side broadcasts over the other's batch.
 */
export function matmulProgram(a: GpuTensor, b: GpuTensor, out: GpuTensor, opts: MatmulOptions = {}): KernelProgram {
  const [ba, m, k] = as3d(a, 'a');
  const [bb, b1, b2] = as3d(b, 'b');
  const [kb, n] = opts.transB ? [b2, b1] : [b1, b2];
  check(kb === k, 'matmul', `inner dims differ: a ${shapeStr(a.shape)}, b ${shapeStr(b.shape)}${opts.transB ? ' (transB)' : ''}`);
  check(ba === bb || ba === 1 || bb === 1, 'matmul', `batch ${ba} of a and ${bb} of b do not broadcast`);
  const batch = Math.max(ba, bb);
  return gemmProgram({
    op: 'matmul', a, b, out, batch, m, n, k,
    aBatch: ba === 1 ? 0 : m * k, bBatch: bb === 1 ? 0 : k * n,
    layout: opts.transB ? 'nk' : 'kn', act: 'none', alpha: 1,
  });
}

export function matmul(gpu: Gpu, a: GpuTensor, b: GpuTensor, opts: MatmulOptions = {}, out?: GpuTensor): GpuTensor {
  const [ba, m] = as3d(a, 'a');
  const [bb, b1, b2] = as3d(b, 'b');
  const n = opts.transB ? b1 : b2;
  const batch = Math.max(ba, bb);
  const shape = a.shape.length === 2 && b.shape.length === 2 ? [m, n] : [batch, m, n];
  const o = out ?? gpu.empty(shape, a.dtype, 'matmul');
  gpu.run(matmulProgram(a, b, o, opts));
  return o;
}
