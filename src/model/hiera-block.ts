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
// LN₁ and LN₂ are never written out: they are the LayerNorm prologues of the GEMMs that read them
// (qkv and proj; mlp.fc1), and both residual adds are GEMM epilogues (attn.proj, mlp.fc2).
import { windowAttention } from '../kernels/attention/attention.js';
import { maxPool2x2 } from '../kernels/window/window.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { HieraBlock as HieraBlockSpec } from './config.js';
import { LayerNorm } from './layers/layer-norm.js';
import { Linear } from './layers/linear.js';
import { Mlp } from './layers/mlp.js';
import { chunkBudget, chunkRanges, rowSlice } from './layers/rows.js';
import type { WeightScope } from './weights.js';

const HIERA_LN_EPS = 1e-6;

/**
 * A feature map in channels-last layout: `t` owns b·h·w·c values, row-major [b, h, w, c] (any
 * shape); `b` is the number of images encoded together (default 1).
 */
export interface FeatureMap {
  t: GpuTensor;
  h: number;
  w: number;
  b?: number;
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
  private readonly scope: WeightScope;

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
    this.scope = scope;
  }

  /** The token a padded window position holds after qkv: the qkv bias (zeros without one). */
  private padToken(): GpuTensor {
    const n = 3 * this.spec.dimOut;
    return this.qkv.bias ?? this.scope.derived('attn.qkv.zero_bias', () => ({ data: new Float32Array(n), shape: [n] }));
  }

  /** Output map; `x` is left to the caller to release. */
  forward(x: FeatureMap): FeatureMap {
    const { dim, dimOut, numHeads, windowSize, qStride } = this.spec;
    const { h, w } = x;
    const b = x.b ?? 1;
    const pool = qStride !== null;
    if (pool && (h % 2 !== 0 || w % 2 !== 0)) throw new Error(`Hiera block ${this.spec.index}: q-pooling needs an even map, got ${h}×${w}`);
    const ho = pool ? h / 2 : h;
    const wo = pool ? w / 2 : w;

    // 1. Pre-norm: LN₁ is the prologue of the GEMMs reading the normalised input (proj, qkv).
    const norm1 = this.norm1;

    // 2. Shortcut: max-pooled projection of the normalised input at stage transitions.  [b·ho·wo, d']
    let shortcut = x.t;
    if (this.proj) {
      const p = this.proj.forward(x.t, { prologue: norm1 }); // [b·h·w, d']
      shortcut = pool ? maxPool2x2(this.gpu, p.reshape([b, h, w, dimOut])) : p;
      if (pool) p.release();
    }

    // 3. Attention per window. qkv runs on the un-windowed map (channels (s, head, j)); the
    //    attention reads each window straight from it (a padded token's q/k/v is the qkv bias:
    //    the map is padded with zeros after the norm), max-pools q 2×2 inside the window on q-pool
    //    blocks and writes the (pooled) map, skipping the padding: window_partition, do_pool and
    //    window_unpartition are folded into its addressing. Global attention is one window over
    //    the map. The qkv of several images runs as one GEMM where it fits the chunk budget (the
    //    attention then runs per image); otherwise per image over ranges of window rows, so the
    //    qkv intermediate stays within one binding.
    const attn = this.gpu.empty([b * ho * wo, dimOut], x.t.dtype, 'hiera attn'); // [b·ho·wo, d']
    const winH = windowSize > 0 ? windowSize : h;
    const c3 = 3 * dimOut;
    const attend = (qkv: GpuTensor, qkvRow: number, image: number, y0: number, y1: number) => {
      const view = (channel: number) => ({ tensor: qkv, offset: qkvRow * c3 + channel, rowStride: c3 });
      windowAttention(
        this.gpu,
        view(0),
        view(dimOut),
        view(2 * dimOut),
        {
          heads: numHeads,
          headDim: this.headDim,
          window: { height: y1 - y0, width: w, window: windowSize, pool, pad: { tensor: this.padToken(), kOffset: dimOut, vOffset: 2 * dimOut } },
        },
        { tensor: attn, offset: (image * ho * wo + (pool ? y0 / 2 : y0) * wo) * dimOut },
      );
    };
    const perImage = h * w * c3 * 4;
    const budget = this.opts.chunkBytes ?? chunkBudget(this.gpu);
    const groups = b > 1 && 2 * perImage <= budget ? chunkRanges(this.gpu, b, perImage, [h * w * dim], budget, `Hiera block ${this.spec.index} qkv`) : [];
    const single = Array.from({ length: b }, (_, i) => [i, i + 1]);
    for (const [i0, i1] of groups.length > 0 ? groups : single) {
      if (i1 - i0 > 1) {
        const qkv = this.qkv.forward(rowSlice(x.t, i0 * h * w, i1 * h * w), { prologue: norm1 }); // [(i1-i0)·h·w, 3d']
        for (let i = i0; i < i1; i++) attend(qkv, (i - i0) * h * w, i, 0, h);
        qkv.release();
        continue;
      }
      const nwy = Math.ceil(h / winH);
      const ranges = chunkRanges(this.gpu, nwy, winH * w * c3 * 4, [winH * w * dim], this.opts.chunkBytes, `Hiera block ${this.spec.index} qkv`);
      for (const [r0, r1] of ranges) {
        const y0 = r0 * winH;
        const y1 = Math.min(h, r1 * winH);
        const qkv = this.qkv.forward(rowSlice(x.t, i0 * h * w + y0 * w, i0 * h * w + y1 * w), { prologue: norm1 }); // [(y1-y0)·w, 3d']
        attend(qkv, 0, i0, y0, y1);
        qkv.release();
      }
    }

    // 4. attn.proj + shortcut.  [ho·wo, d']
    const x1 = this.attnProj.forward(attn, { residual: shortcut }); // [ho·wo, d']
    attn.release();
    if (shortcut !== x.t) shortcut.release();

    // 5. MLP with residual, LN₂ as the prologue of fc1.  [ho·wo, d']
    const x2 = this.mlp.forward(x1, x1, undefined, this.norm2);
    x1.release();
    return { t: x2, h: ho, w: wo, b };
  }
}
