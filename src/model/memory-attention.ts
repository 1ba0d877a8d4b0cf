// Memory attention: conditions the current slice's features on the memory bank. Ports
// sam2/modeling/memory_attention.py (MemoryAttention, MemoryAttentionLayer) and RoPEAttention of
// sam2/modeling/sam/transformer.py. Pre-norm layers; self-attention and cross-attention use axial
// RoPE instead of additive position encodings; the query-side sine PE enters once, scaled by 0.1.
//
// Launch plan (exact reformulations of the upstream computation):
// - RoPE is applied by the attention kernels as they load q and k (attention.ts `rope`).
// - Self-attention projects q, k and v with one GEMM over concatenated weights [3·I, C].
// - Cross-attention has one head, so v_proj moves after the attention: the rows of
//   P = softmax(q·kᵀ) sum to 1, hence P·(M·Wvᵀ + b_v) = (P·M)·Wvᵀ + b_v, and with out_proj
//   y = (P·M)·(Wo·Wv)ᵀ + (Wo·b_v + b_o). The kernel attends over the raw memory M (mem_dim = 64
//   channels instead of 256: a quarter of the P·V work) and one GEMM applies the folded weights.
import { attention } from '../kernels/attention/attention.js';
import { binary } from '../kernels/elementwise/elementwise.js';
import { linear } from '../kernels/matmul/matmul.js';
import { copyRows } from '../kernels/row-copy/row-copy.js';
import { getRopeTable, type RopeGrid } from '../kernels/rope/rope-table.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { RopeAttentionSpec, Sam2Config } from './config.js';
import { LayerNorm } from './layers/layer-norm.js';
import { Linear } from './layers/linear.js';
import { noProbe, type Probe } from './probe.js';
import type { WeightScope } from './weights.js';
import type { WeightOperand } from '../kernels/packed-weight/packed-weight.js';
import { Boundary, outF32 } from './layers/dtype-boundary.js';

const LN_EPS = 1e-5; // nn.LayerNorm default

/** Row-major concatenation of [rows_i, cols] matrices (or vectors). */
function concatRows(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Wo [C, I] · Wv [I, D] → [C, D] and Wo·b_v + b_o → [C], accumulated in f64. */
function foldOutputProjection(wo: Float32Array, bo: Float32Array | undefined, wv: Float32Array, bv: Float32Array | undefined, c: number, inner: number, d: number) {
  const w = new Float32Array(c * d);
  const b = new Float32Array(c);
  const row = new Float64Array(d);
  for (let i = 0; i < c; i++) {
    row.fill(0);
    let bias = bo ? bo[i] : 0;
    for (let k = 0; k < inner; k++) {
      const a = wo[i * inner + k];
      for (let j = 0; j < d; j++) row[j] += a * wv[k * d + j];
      if (bv) bias += a * bv[k];
    }
    w.set(row, i * d);
    b[i] = bias;
  }
  return { w, b };
}

/** RoPEAttention: q/k/v projections, axial RoPE on q and k (minus excluded tail keys), SDPA, out_proj. */
class RopeAttention {
  readonly heads: number;
  readonly internal: number;
  /** Self-attention: q, k, v projections as one GEMM (present when q, k, v share their input). */
  private qkv?: { w: WeightOperand; b?: GpuTensor };
  /** One-head cross-attention: out_proj ∘ v_proj folded, applied after attending over the raw values. */
  private folded?: { w: WeightOperand; b: GpuTensor };
  /** The projections, uploaded on first use: the fused and folded forms replace most of them. */
  private readonly projections = new Map<string, Linear>();

  constructor(
    private readonly gpu: Gpu,
    private readonly w: WeightScope,
    readonly spec: RopeAttentionSpec,
    mode: 'self' | 'cross',
  ) {
    this.heads = spec.numHeads;
    const [inner, qIn] = w.shape('q_proj.weight');
    this.internal = inner;
    const names = ['q_proj', 'k_proj', 'v_proj'];
    const inDims = names.map((n) => w.shape(`${n}.weight`)[1]);
    const hasBias = names.map((n) => w.has(`${n}.bias`));
    if (mode === 'self' && inDims.every((d) => d === qIn) && hasBias.every((x) => x === hasBias[0])) {
      // Formatted like q_proj (packed when the component's weights are quantized).
      this.qkv = {
        w: w.derivedMatrix('qkv_fused.weight', 'q_proj.weight', () => ({ data: concatRows(names.map((n) => w.host(`${n}.weight`))), shape: [3 * inner, qIn] })),
        b: hasBias[0] ? w.derived('qkv_fused.bias', () => ({ data: concatRows(names.map((n) => w.host(`${n}.bias`))), shape: [3 * inner] })) : undefined,
      };
    }
    if (mode === 'cross' && this.heads === 1) {
      const c = w.shape('out_proj.weight')[0];
      const d = inDims[2];
      let fold: ReturnType<typeof foldOutputProjection> | undefined;
      const make = () =>
        (fold ??= foldOutputProjection(
          w.host('out_proj.weight'),
          w.has('out_proj.bias') ? w.host('out_proj.bias') : undefined,
          w.host('v_proj.weight'),
          hasBias[2] ? w.host('v_proj.bias') : undefined,
          c,
          inner,
          d,
        ));
      this.folded = {
        w: w.derivedMatrix('out_v_folded.weight', 'out_proj.weight', () => ({ data: make().w, shape: [c, d] })),
        b: w.derived('out_v_folded.bias', () => ({ data: make().b, shape: [c] })),
      };
    }
  }

  private projection(name: string): Linear {
    let l = this.projections.get(name);
    if (!l) this.projections.set(name, (l = new Linear(this.gpu, this.w.scope(name))));
    return l;
  }

  get q(): Linear {
    return this.projection('q_proj');
  }

  get k(): Linear {
    return this.projection('k_proj');
  }

  get v(): Linear {
    return this.projection('v_proj');
  }

  get out(): Linear {
    return this.projection('out_proj');
  }

  /**
   * q_in [B·Nq, C]; k_in, v_in [B·Nk, Ckv]: `batch` items (objects) stacked, each attending only
   * to its own keys. The last `excludeTail` keys of an item (object pointers) are not rotated; keys
   * beyond Nq repeat the query grid's rotation (one spatial memory after another).
   * Returns residual + out_proj(attention), [B·Nq, C]. `qNorm`: a LayerNorm applied to qIn first,
   * fused into the q projection's GEMM (with self-attention, k and v are the same normalized input).
   */
  forward(qIn: GpuTensor, kIn: GpuTensor, vIn: GpuTensor, grid: RopeGrid, excludeTail: number, residual: GpuTensor, qNorm?: LayerNorm, batch = 1): GpuTensor {
    const gpu = this.gpu;
    const rowsQ = qIn.shape[0];
    const rowsK = kIn.shape[0];
    if (rowsQ % batch || rowsK % batch) throw new Error(`memory attention: ${rowsQ} queries and ${rowsK} keys do not split into ${batch} items`);
    const nq = rowsQ / batch;
    const nk = rowsK / batch;
    const I = this.internal;
    const hd = I / this.heads;
    const rope = {
      table: getRopeTable(gpu, { ...grid, headDim: hd }),
      kRepeat: this.spec.ropeKRepeat || nk === nq,
      kExcludedTail: excludeTail,
    };
    const shape = { batch, heads: this.heads, headDim: hd, nq, nk, rope };
    if (this.qkv && qIn === kIn && kIn === vIn) {
      // Self-attention: one projection [Nq, 3I], q | k | v read as strided views.
      const qkv = linear(gpu, qIn, this.qkv.w, this.qkv.b, { norm: qNorm && { weight: qNorm.weight, bias: qNorm.bias, eps: qNorm.eps } });
      const view = (offset: number) => ({ tensor: qkv, offset, rowStride: 3 * I });
      const a = attention(gpu, view(0), view(I), view(2 * I), shape);
      qkv.release();
      return this.project(a, rowsQ, residual);
    }
    if (qNorm && (kIn === qIn || vIn === qIn)) {
      // No fused qkv weights (no SAM 2 config): normalize once, then the plain path.
      const h = qNorm.forward(qIn);
      const y = this.forward(h, kIn === qIn ? h : kIn, vIn === qIn ? h : vIn, grid, excludeTail, residual, undefined, batch);
      h.release();
      return y;
    }
    const q = this.q.forward(qIn, { prologue: qNorm });
    const k = this.k.forward(kIn);
    if (this.folded) {
      // softmax(q·kᵀ)·M over the raw values, then the folded out_proj ∘ v_proj.  [Nq, Ckv] → [Nq, C]
      const d = vIn.shape[vIn.shape.length - 1];
      const a = attention(gpu, q, k, vIn.reshape([rowsK, d]), { ...shape, vHeadDim: d });
      q.release();
      k.release();
      const y = linear(gpu, a.reshape([rowsQ, d]), this.folded.w, this.folded.b, { residual });
      a.release();
      return y;
    }
    const v = this.v.forward(vIn);
    const a = attention(gpu, q, k, v, shape);
    q.release();
    k.release();
    v.release();
    return this.project(a, rowsQ, residual);
  }

  private project(a: GpuTensor, rows: number, residual: GpuTensor): GpuTensor {
    const y = this.out.forward(a.reshape([rows, this.internal]), { residual });
    a.release();
    return y;
  }
}

class MemoryAttentionLayer {
  private readonly selfAttn: RopeAttention;
  private readonly crossAttn: RopeAttention;
  private readonly linear1: Linear;
  private readonly linear2: Linear;
  private readonly norm1: LayerNorm;
  private readonly norm2: LayerNorm;
  private readonly norm3: LayerNorm;

  constructor(
    private readonly gpu: Gpu,
    w: WeightScope,
    private readonly cfg: Sam2Config['memoryAttention'],
  ) {
    this.selfAttn = new RopeAttention(gpu, w.scope('self_attn'), cfg.selfAttention, 'self');
    this.crossAttn = new RopeAttention(gpu, w.scope('cross_attn_image'), cfg.crossAttention, 'cross');
    this.linear1 = new Linear(gpu, w.scope('linear1'));
    this.linear2 = new Linear(gpu, w.scope('linear2'));
    this.norm1 = new LayerNorm(gpu, w.scope('norm1'), LN_EPS);
    this.norm2 = new LayerNorm(gpu, w.scope('norm2'), LN_EPS);
    this.norm3 = new LayerNorm(gpu, w.scope('norm3'), LN_EPS);
    if (cfg.posEncAtAttn || cfg.posEncAtCrossAttnQueries) {
      throw new Error('memory attention: position encodings at self-attention or cross-attention queries are not supported (no SAM 2 config uses them)');
    }
    if (cfg.activation !== 'relu') throw new Error(`memory attention: activation ${cfg.activation} is not supported (SAM 2 uses relu)`);
  }

  /** x [B·Nq, C] → [B·Nq, C] (`batch` items, each with its own memory); x is released. */
  forward(x: GpuTensor, memory: GpuTensor, memoryKeys: GpuTensor, grid: RopeGrid, numObjPtrTokens: number, batch = 1): GpuTensor {
    // Each LayerNorm rides in the prologue of the GEMM that reads it (kernels/matmul: linear).
    // Self-attention: q = k = v = LN1(x), RoPE on q and k.
    const x1 = this.selfAttn.forward(x, x, x, grid, 0, x, this.norm1, batch);
    x.release();
    // Cross-attention to the memory: q = LN2(x), k = memory + memory_pos, v = memory.
    const x2 = this.crossAttn.forward(x1, memoryKeys, memory, grid, numObjPtrTokens, x1, this.norm2, batch);
    x1.release();
    // Feed-forward: x + linear2(relu(linear1(LN3(x)))).
    const f = this.linear1.forward(x2, { act: 'relu', prologue: this.norm3 });
    const x3 = this.linear2.forward(f, { residual: x2 });
    f.release();
    x2.release();
    return x3;
  }
}

export class MemoryAttention {
  private readonly layers: MemoryAttentionLayer[];
  private readonly norm: LayerNorm;

  constructor(
    private readonly gpu: Gpu,
    root: WeightScope,
    private readonly cfg: Sam2Config,
  ) {
    const w = root.scope('memory_attention');
    const ma = cfg.memoryAttention;
    this.layers = Array.from({ length: ma.numLayers }, (_, i) => new MemoryAttentionLayer(gpu, w.scope(`layers.${i}`), ma));
    this.norm = new LayerNorm(gpu, w.scope('norm'), LN_EPS);
    this.act = root.activations;
  }

  /** Activation storage inside memory attention (inputs are converted to it; the output is f32). */
  readonly act: 'f32' | 'f16';

  /** The RoPE grid of `tokens` queries: upstream assumes a square map (w = h = sqrt(tokens)). */
  private grid(tokens: number): Omit<RopeGrid, 'headDim'> {
    const side = Math.round(Math.sqrt(tokens));
    if (side * side !== tokens) throw new Error(`memory attention: ${tokens} query tokens are not a square grid`);
    return { endX: side, endY: side, theta: this.cfg.memoryAttention.selfAttention.ropeTheta };
  }

  /**
   * curr [Nq, C] (the slice's neck feature), currPos [Nq, C] (its sine PE), memory / memoryPos
   * [M, memDim] with `numObjPtrTokens` pointer tokens at the end → pix_feat_with_mem [Nq, C] (f32).
   */
  forward(curr: GpuTensor, currPos: GpuTensor, memory: GpuTensor, memoryPos: GpuTensor, numObjPtrTokens: number, probe: Probe = noProbe): GpuTensor {
    return this.forwardBatch(curr, currPos, memory, memoryPos, 1, numObjPtrTokens, probe);
  }

  /**
   * Several objects on one slice as one chain: they share curr / currPos [Nq, C]; memory and
   * memoryPos hold `batch` memories of M rows each, stacked [B·M, memDim] (every memory has M rows
   * with `numObjPtrTokens` pointer tokens at its end) → [B·Nq, C] (f32), item b equal to
   * `forward` on memory b.
   */
  forwardBatch(curr: GpuTensor, currPos: GpuTensor, memory: GpuTensor, memoryPos: GpuTensor, batch: number, numObjPtrTokens: number, probe: Probe = noProbe): GpuTensor {
    if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`memory attention: batch ${batch} must be a positive integer`);
    const b = new Boundary(this.gpu, this.act);
    const out = this.forwardIn(b.in(curr), b.in(currPos), b.in(memory), b.in(memoryPos), batch, numObjPtrTokens, probe);
    b.release();
    return outF32(this.gpu, out);
  }

  private forwardIn(curr: GpuTensor, currPos: GpuTensor, memory: GpuTensor, memoryPos: GpuTensor, batch: number, numObjPtrTokens: number, probe: Probe): GpuTensor {
    const gpu = this.gpu;
    const nq = curr.size / curr.shape[curr.shape.length - 1];
    const C = this.cfg.memoryAttention.dModel;
    const grid = this.grid(nq) as RopeGrid;
    // Input: curr + 0.1 · curr_pos (pos_enc_at_input), once for all objects.
    let x = this.cfg.memoryAttention.posEncAtInput
      ? binary(gpu, 'add', curr.reshape([nq, C]), currPos.reshape([nq, C]), undefined, 1, 0, 0.1)
      : gpu.clone(curr.reshape([nq, C]));
    if (batch > 1) {
      // Every object starts from the same tokens: one copy per object, one dispatch.
      const tiled = gpu.empty([batch * nq, C], x.dtype, 'memattn-input');
      copyRows(gpu, x, tiled, { rows: batch, count: nq * C, srcStride: 0 });
      x.release();
      x = tiled;
    }
    // Keys see memory + memory_pos (pos_enc_at_cross_attn_keys); values see the memory alone.
    const keys = this.cfg.memoryAttention.posEncAtCrossAttnKeys ? binary(gpu, 'add', memory, memoryPos) : memory;
    this.layers.forEach((layer, i) => {
      x = layer.forward(x, memory, keys, grid, numObjPtrTokens, batch);
      probe(`layer${i}`, x, 'tokens');
    });
    if (keys !== memory) keys.release();
    const out = this.norm.forward(x);
    x.release();
    return out;
  }
}
