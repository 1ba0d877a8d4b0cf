// One Hiera block with its multi-scale attention, channels-last.
// Upstream: sam2/modeling/backbones/hieradet.py (MultiScaleBlock, MultiScaleAttention, do_pool) and
// sam2/modeling/backbones/utils.py (window_partition, window_unpartition).
//
//   xn = LN₁(x)                                   eps 1e-6
//   shortcut = d ≠ d' ? maxpool₂ₓ₂(proj(xn)) : x  (projection of the NORMALISED input)
//   windows of xn (zero padding AFTER the norm; padded tokens are not masked: their q/k/v are the
//   qkv bias and take part in the softmax), qkv, q max-pooled 2×2 inside each window on q-pool
//   blocks, per-window SDPA, attn.proj, un-window (window/2 after q-pool) and crop,
//   x₁ = shortcut + attn;  x₂ = x₁ + MLP(LN₂(x₁)) with exact GELU.
import { attention } from '../kernels/attention/attention.js';
import { maxPool2x2, windowPartition, windowUnpartition } from '../kernels/window/window.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { HieraBlock as HieraBlockSpec } from './config.js';
import { LayerNorm } from './layers/layer-norm.js';
import { Linear } from './layers/linear.js';
import { Mlp } from './layers/mlp.js';
import { chunkRanges, rowSlice } from './layers/rows.js';
import type { WeightScope } from './weights.js';

const HIERA_LN_EPS = 1e-6;

/** A feature map in channels-last layout: `t` owns h·w·c values, row-major [h, w, c] (any shape). */
export interface FeatureMap {
  t: GpuTensor;
  h: number;
  w: number;
}

export interface HieraRunOptions {
  /**
   * Byte budget of one intermediate (qkv of a range of windows, MLP hidden of a range of rows)
   * before the work is split into ranges; default chunkBudget(gpu). Tests lower it to exercise
   * the chunked paths on small models.
   */
  chunkBytes?: number;
}

export class MultiScaleBlock {
  private readonly norm1: LayerNorm;
  private readonly norm2: LayerNorm;
  private readonly qkv: Linear;
  private readonly attnProj: Linear;
  private readonly proj: Linear | null;
  private readonly mlp: Mlp;
  private readonly headDim: number;

  constructor(
    private readonly gpu: Gpu,
    scope: WeightScope,
    readonly spec: HieraBlockSpec,
    private readonly opts: HieraRunOptions = {},
  ) {
    const { dim, dimOut, numHeads } = spec;
    this.norm1 = new LayerNorm(gpu, scope.scope('norm1'), HIERA_LN_EPS, dim);
    this.norm2 = new LayerNorm(gpu, scope.scope('norm2'), HIERA_LN_EPS, dimOut);
    this.qkv = new Linear(gpu, scope.scope('attn.qkv'), { inDim: dim, outDim: 3 * dimOut });
    this.attnProj = new Linear(gpu, scope.scope('attn.proj'), { inDim: dimOut, outDim: dimOut });
    this.proj = spec.hasProj ? new Linear(gpu, scope.scope('proj'), { inDim: dim, outDim: dimOut }) : null;
    this.mlp = new Mlp(gpu, scope.scope('mlp'), { numLayers: 2, act: 'gelu', chunkBytes: opts.chunkBytes });
    if (this.mlp.inDim !== dimOut || this.mlp.outDim !== dimOut) {
      throw new Error(`Hiera block ${spec.index}: mlp maps ${this.mlp.inDim} → ${this.mlp.outDim}, expected ${dimOut} → ${dimOut}`);
    }
    if (spec.qStride && (spec.qStride[0] !== 2 || spec.qStride[1] !== 2)) {
      throw new Error(`Hiera block ${spec.index}: q_stride ${JSON.stringify(spec.qStride)} is not supported (only 2×2 pooling)`);
    }
    this.headDim = dimOut / numHeads;
  }

  /** Output map; `x` is left to the caller to release. */
  forward(x: FeatureMap): FeatureMap {
    const { dim, dimOut, numHeads, windowSize, qStride } = this.spec;
    const { h, w } = x;
    const pool = qStride !== null;
    if (pool && (h % 2 !== 0 || w % 2 !== 0)) throw new Error(`Hiera block ${this.spec.index}: q-pooling needs an even map, got ${h}×${w}`);
    const ho = pool ? h / 2 : h;
    const wo = pool ? w / 2 : w;

    // 1. Pre-norm.  [h·w, d]
    const xn = this.norm1.forward(x.t);

    // 2. Shortcut: max-pooled projection of the normalised input at stage transitions.  [ho·wo, d']
    let shortcut = x.t;
    if (this.proj) {
      const p = this.proj.forward(xn); // [h·w, d']
      shortcut = pool ? maxPool2x2(this.gpu, p.reshape([1, h, w, dimOut])) : p;
      if (pool) p.release();
    }

    // 3. Windows of the normalised map (zero-padded to a multiple of the window); global
    //    attention is one window covering the whole map.
    let windows: GpuTensor; // [nW, wh·ww, d]
    let nW: number, wh: number, ww: number, hp: number, wp: number;
    if (windowSize > 0) {
      hp = Math.ceil(h / windowSize) * windowSize;
      wp = Math.ceil(w / windowSize) * windowSize;
      nW = (hp / windowSize) * (wp / windowSize);
      wh = ww = windowSize;
      windows = windowPartition(this.gpu, xn.reshape([h, w, dim]), windowSize);
      xn.release();
    } else {
      [nW, wh, ww, hp, wp] = [1, h, w, h, w];
      windows = xn;
    }
    const nk = wh * ww;
    const qh = pool ? wh / 2 : wh;
    const qw = pool ? ww / 2 : ww;
    const nq = qh * qw;

    // 4. Attention per window: qkv projection (channels (s, head, j)), q pooling, SDPA.
    //    Runs over ranges of windows so the qkv intermediate stays within one binding.
    const o = this.gpu.empty([nW, nq, dimOut], x.t.dtype, 'hiera attn'); // [nW, nq, d']
    const c3 = 3 * dimOut;
    const ranges = chunkRanges(this.gpu, nW, nk * c3 * 4, [nk * dim], this.opts.chunkBytes, `Hiera block ${this.spec.index} qkv`);
    for (const [w0, w1] of ranges) {
      const nb = w1 - w0;
      const qkv = this.qkv.forward(rowSlice(windows.reshape([nW * nk, dim]), w0 * nk, w1 * nk)); // [nb·nk, 3d']
      // q-pool: 2×2 max of the q channels inside each window.  [nb, nq, d']
      const pooled = pool ? maxPool2x2(this.gpu, qkv, undefined, { batch: nb, height: wh, width: ww, channels: dimOut, pixelStride: c3 }) : null;
      attention(
        this.gpu,
        pooled ? { tensor: pooled } : { tensor: qkv, offset: 0, rowStride: c3 },
        { tensor: qkv, offset: dimOut, rowStride: c3 },
        { tensor: qkv, offset: 2 * dimOut, rowStride: c3 },
        { batch: nb, heads: numHeads, headDim: this.headDim, nq, nk },
        { tensor: o, offset: w0 * nq * dimOut },
      );
      pooled?.release();
      qkv.release();
    }
    windows.release();

    // 5. Un-window (window/2 after pooling) and crop the padding, then attn.proj + shortcut.
    //    The projection is per token, so it runs after the crop on the kept tokens only.
    let attn = o;
    if (windowSize > 0) {
      attn = windowUnpartition(this.gpu, o.reshape([nW, qh, qw, dimOut]), ho, wo); // [ho, wo, d']
      o.release();
    }
    const x1 = this.attnProj.forward(attn.reshape([ho * wo, dimOut]), { residual: shortcut }); // [ho·wo, d']
    attn.release();
    if (shortcut !== x.t) shortcut.release();

    // 6. MLP with residual.  [ho·wo, d']
    const x1n = this.norm2.forward(x1);
    const x2 = this.mlp.forward(x1n, x1);
    x1n.release();
    x1.release();
    return { t: x2, h: ho, w: wo };
  }
}
