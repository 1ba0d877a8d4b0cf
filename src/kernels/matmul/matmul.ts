// Launchers for the GEMM family: `linear` (torch.nn.Linear / 1×1 conv in NHWC, with fused bias,
// activation and residual) and `matmul` (batched a·b or a·bᵀ). A launcher validates its operands
// into a GemmSpec; `gpu.runOp(GEMM_FAMILY, spec)` then runs the variant the adapter's selector
// picks (variants.ts): the register-blocked kernels of matmul.wgsl.ts on CPU adapters, tiled
// workgroup-memory kernels on GPUs.
import type { Gpu } from '../../runtime/gpu.js';
import { numel, shapeStr, type GpuTensor } from '../../runtime/tensor.js';
import { check, type KernelProgram } from '../program.js';
import { isPacked, type WeightOperand } from '../packed-weight/packed-weight.js';
import { layerNorm } from '../layer-norm/layer-norm.js';
import type { GemmNormA, GemmSpec } from './gemm-spec.js';
import { RESIDUAL_MODE, type Activation } from './matmul.wgsl.js';
import { regblockProgram } from './regblock.js';
import { GEMM_FAMILY } from './variants.js';

export type { Activation } from './matmul.wgsl.js';
export type { GemmNormA, GemmSpec } from './gemm-spec.js';
export { gemmWorkgroups } from './regblock.js';

/** Checks a GEMM's operands (shared by every variant) and resolves the residual mode. */
export function validateGemm(s: Omit<GemmSpec, 'resMode'>): GemmSpec {
  const { a, b, out, bias, residual, batch, m, n, k } = s;
  const dtype = a.dtype;
  const where = s.op;
  // Activations (a, bias, residual, out) share one storage type; the weights B have their own
  // (f32 or f16, or u32 words of a packed weight: bPacked).
  check(dtype === 'f32' || dtype === 'f16', where, `unsupported dtype ${dtype} (activations must be f32 or f16)`);
  if (!s.bPacked) check(b.dtype === 'f32' || b.dtype === 'f16', where, `unsupported weight dtype ${b.dtype} (B must be f32 or f16)`);
  for (const [label, t] of [['bias', bias], ['residual', residual], ['out', out]] as const) {
    if (t) check(t.dtype === dtype, where, `${label} is ${t.dtype} but a is ${dtype}`);
  }
  if (s.bPacked) {
    check(b.dtype === 'u32', where, `a packed B must be u32 words, got ${b.dtype}`);
    check(s.layout === 'nk' && batch === 1 && s.bBatch === 0, where, 'a packed B must be one [N, K] weight (layout nk, batch 1)');
    const q = s.bPacked.format === 'int8' || s.bPacked.format === 'int4';
    check(!q || (s.bPacked.group > 0 && (s.bPacked.format === 'int8' ? s.bPacked.group === k : k % s.bPacked.group === 0)), where,
      `${s.bPacked.format} weight with K=${k} has an invalid scale group ${s.bPacked.group}`);
  }
  check(m > 0 && n > 0 && k > 0, where, `empty product M=${m} N=${n} K=${k}`);
  check(out.size === batch * m * n, where, `out ${shapeStr(out.shape)} does not hold ${batch}×${m}×${n} results`);
  for (const [label, t] of [['a', a], ['b', b], ['bias', bias], ['norm weight', s.normA?.weight], ['norm bias', s.normA?.bias]] as const) {
    check(!t || t.buffer !== out.buffer, where, `out aliases input ${label}; use a separate output tensor`);
  }
  if (s.normA) {
    const { weight, bias: beta, eps } = s.normA;
    check(weight.size === k && beta.size === k, where,
      `LayerNorm prologue weight ${shapeStr(weight.shape)} / bias ${shapeStr(beta.shape)} do not match K=${k}`);
    check(weight.dtype === dtype && beta.dtype === dtype, where, `LayerNorm prologue parameters must be ${dtype} like a`);
    check(eps > 0, where, `LayerNorm prologue eps must be positive, got ${eps}`);
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
  return { ...s, resMode };
}

export interface LinearOptions {
  /** Activation applied after the bias (exact erf GELU, as nn.GELU()). */
  act?: Activation;
  /** Added after the activation and scaling; may be `out` itself for an in-place `out += linear(x)`. */
  residual?: GpuTensor;
  /** Scales act(x·Wᵀ + b) before the residual is added. */
  alpha?: number;
  /**
   * LayerNorm of x over its features before the product: act(LN(x)·Wᵀ + b) + residual. Fused into
   * the GEMM's A loads where the adapter's GEMM variant has the prologue (see `linear`).
   */
  norm?: GemmNormA;
}

/**
 * out = alpha · act(x·Wᵀ + bias) + residual, with x [..., K] (leading dims flattened into M),
 * W [N, K] (PyTorch Linear layout; a float tensor of x's dtype or a PackedWeight), bias [N],
 * residual and out [..., N].
 */
export function linearSpec(
  x: GpuTensor,
  w: WeightOperand,
  bias: GpuTensor | undefined,
  out: GpuTensor,
  opts: LinearOptions = {},
): GemmSpec {
  check(x.shape.length >= 1, 'linear', `x ${shapeStr(x.shape)} has no feature axis`);
  check(w.shape.length === 2, 'linear', `W ${shapeStr(w.shape)} must be [out_features, in_features]`);
  const [n, k] = w.shape;
  const kx = x.shape[x.shape.length - 1];
  check(kx === k, 'linear', `x ${shapeStr(x.shape)} has ${kx} features but W ${shapeStr(w.shape)} expects ${k}`);
  check(!bias || bias.size === n, 'linear', `bias ${bias && shapeStr(bias.shape)} does not match ${n} outputs`);
  const m = numel(x.shape.slice(0, -1));
  return validateGemm({
    op: 'linear', a: x, b: isPacked(w) ? w.data : w, out, bias, residual: opts.residual,
    batch: 1, m, n, k, aBatch: 0, bBatch: 0, layout: 'nk', act: opts.act ?? 'none', alpha: opts.alpha ?? 1,
    bPacked: isPacked(w) ? { format: w.format, scaleOffset: w.scaleOffset, group: w.group } : undefined,
    normA: opts.norm,
  });
}

/** The register-blocked program of a linear (pure: no adapter needed; tests inspect it). */
export function linearProgram(
  x: GpuTensor,
  w: WeightOperand,
  bias: GpuTensor | undefined,
  out: GpuTensor,
  opts: LinearOptions = {},
): KernelProgram {
  return regblockProgram(linearSpec(x, w, bias, out, opts));
}

export function linear(
  gpu: Gpu,
  x: GpuTensor,
  w: WeightOperand,
  bias?: GpuTensor,
  opts: LinearOptions = {},
  out?: GpuTensor,
): GpuTensor {
  const o = out ?? gpu.empty([...x.shape.slice(0, -1), w.shape[0]], x.dtype, 'linear');
  const spec = linearSpec(x, w, bias, o, opts);
  if (!spec.normA || normFusible(gpu, spec)) {
    gpu.runOp(GEMM_FAMILY, spec);
    return o;
  }
  // The variant this adapter runs for the plain product has no prologue: LayerNorm, then GEMM.
  const { weight, bias: beta, eps } = spec.normA;
  const xn = layerNorm(gpu, spec.a, weight, beta, eps);
  gpu.runOp(GEMM_FAMILY, { ...spec, a: xn, normA: undefined });
  xn.release();
  return o;
}

/**
 * Whether the LayerNorm prologue runs fused: only where the variant the selector would pick for
 * the plain product (forced, tuned or heuristic) also supports the prologue, so asking for the
 * fusion never moves a GEMM off the kernel the adapter prefers (the GPU-class variants have none).
 */
export function normFusible(gpu: Gpu, spec: GemmSpec): boolean {
  const plain = gpu.kernels.pick(GEMM_FAMILY, { ...spec, normA: undefined });
  return plain.variant.supports(spec, gpu.kernels.target);
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
export function matmulSpec(a: GpuTensor, b: GpuTensor, out: GpuTensor, opts: MatmulOptions = {}): GemmSpec {
  const [ba, m, k] = as3d(a, 'a');
  const [bb, b1, b2] = as3d(b, 'b');
  const [kb, n] = opts.transB ? [b2, b1] : [b1, b2];
  check(kb === k, 'matmul', `inner dims differ: a ${shapeStr(a.shape)}, b ${shapeStr(b.shape)}${opts.transB ? ' (transB)' : ''}`);
  check(ba === bb || ba === 1 || bb === 1, 'matmul', `batch ${ba} of a and ${bb} of b do not broadcast`);
  const batch = Math.max(ba, bb);
  return validateGemm({
    op: 'matmul', a, b, out, batch, m, n, k,
    aBatch: ba === 1 ? 0 : m * k, bBatch: bb === 1 ? 0 : k * n,
    layout: opts.transB ? 'nk' : 'kn', act: 'none', alpha: 1,
  });
}

/** The register-blocked program of a batched matmul (pure). */
export function matmulProgram(a: GpuTensor, b: GpuTensor, out: GpuTensor, opts: MatmulOptions = {}): KernelProgram {
  return regblockProgram(matmulSpec(a, b, out, opts));
}

export function matmul(gpu: Gpu, a: GpuTensor, b: GpuTensor, opts: MatmulOptions = {}, out?: GpuTensor): GpuTensor {
  const [ba, m] = as3d(a, 'a');
  const [bb, b1, b2] = as3d(b, 'b');
  const n = opts.transB ? b1 : b2;
  const batch = Math.max(ba, bb);
  const shape = a.shape.length === 2 && b.shape.length === 2 ? [m, n] : [batch, m, n];
  const o = out ?? gpu.empty(shape, a.dtype, 'matmul');
  gpu.runOp(GEMM_FAMILY, matmulSpec(a, b, o, opts));
  return o;
}
