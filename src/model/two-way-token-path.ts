// The two-way transformer with its token side as row programs (kernels/token-rows): everything that
// touches only the ~7 prompt/output tokens (projections, residual adds, LayerNorms, the MLP, the
// token PE) runs as one launch between consecutive attentions, and each launch also produces what
// the next attention reads (its q, or k and v side by side, read as token views). The image side
// (4096-long projections, the attentions, LN4) stays on GEMMs and the attention kernels.
// Same math as two-way-transformer.ts (upstream sam2/modeling/sam/transformer.py): per block
//   Q1 = LN1([Q +] SelfAttn(Q [+ tpe], Q [+ tpe], Q));  Q2 = LN2(Q1 + Attn(Q1 + tpe, K + pe, K))
//   Q3 = LN3(Q2 + MLP(Q2));  K' = LN4(K + Attn(K + pe, Q3 + tpe, Q3))
// and the final Q = LN(Q + Attn(Q + tpe, K + pe, K)).
// The token "state" between launches is one [T, 2C] tensor: the queries and the token PE.
import { attention } from '../kernels/attention/attention.js';
import type { TokenView } from '../kernels/attention/token-view.js';
import { binary } from '../kernels/elementwise/elementwise.js';
import { RowProgramBuilder, tokenRows, type RowProgram, type RowTensor } from '../kernels/token-rows/token-rows.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { LayerNorm } from './layers/layer-norm.js';
import type { Linear } from './layers/linear.js';
import type { DecoderAttention, TwoWayAttentionBlock, TwoWayTransformer } from './two-way-transformer.js';
import type { WeightScope } from './weights.js';

/** A built program with its weights and op table on the GPU. */
interface Launch {
  program: RowProgram;
  weights: GpuTensor;
  table: GpuTensor;
}

/** Plain f32 weights, read from the store's metadata: the layer's own copies are not uploaded for this. */
const fusable = (l: Linear): boolean => l.plainF32;

const w = (l: Linear): Float32Array => l.scope.host('weight');
const bias = (l: Linear): Float32Array | undefined => (l.hasBias ? l.scope.host('bias') : undefined);

/** dst = W·src + b of a Linear. */
function lin(b: RowProgramBuilder, l: Linear, src: number, relu = false, dst?: number): number {
  return b.linear(src, w(l), bias(l), l.inDim, l.outDim, relu, dst);
}

function ln(b: RowProgramBuilder, n: LayerNorm, src: number, dst = src): number {
  return b.layerNorm(src, n.scope.host('weight'), n.scope.host('bias'), n.eps, dst);
}

/** Where the queries and the token PE sit in a state input: [T, C] tokens (both), or [T, 2C]. */
interface StateLayout {
  stride: number;
  peCol: number;
}

export class FusedTwoWay {
  private constructor(
    private readonly gpu: Gpu,
    private readonly t: TwoWayTransformer,
    /** Per block: B (self-attention out → Q1, and the t2i q), C (→ Q3, the i2t k|v, and the next q or qkv). */
    private readonly blocks: { b: Launch; c: Launch }[],
    /** Block 0's self-attention q|k|v from the tokens. */
    private readonly first: Launch,
    /** Final out_proj + residual + LN. */
    private readonly final: Launch,
  ) {}

  /** The fused form, or null unless every token-side layer has plain f32 weights and activations are f32. */
  static create(gpu: Gpu, scope: WeightScope, t: TwoWayTransformer): FusedTwoWay | null {
    if (scope.activations !== 'f32') return null;
    const linears = [
      ...t.layers.flatMap((l) => [l.selfAttn.qProj, l.selfAttn.kProj, l.selfAttn.vProj, l.selfAttn.outProj, l.crossTokenToImage.qProj,
        l.crossTokenToImage.outProj, l.crossImageToToken.kProj, l.crossImageToToken.vProj, ...l.mlp.layers]),
      t.finalAttn.qProj, t.finalAttn.outProj,
    ];
    const norms = [...t.layers.flatMap((l) => l.norms.slice(0, 3)), t.normFinal];
    if (!linears.every(fusable) || !norms.every((n) => n.scope.activations === 'f32')) return null;
    if (t.layers.some((l) => l.mlp.layers.length !== 2)) return null;
    const c = t.dim;
    const launches: Launch[] = [];
    const upload = (name: string, build: (b: RowProgramBuilder) => void): Launch | null => {
      const b = new RowProgramBuilder();
      try {
        build(b);
      } catch {
        return null; // e.g. wider than the kernel's registers: keep the unfused path
      }
      const program = b.build();
      const weights = scope.derived(`token_rows_fused.${name}`, () => ({ data: program.weights, shape: [program.weights.length] }));
      const l = { program, weights, table: gpu.upload(program.table, [program.table.length], 'u32', `${name} ops`) };
      launches.push(l);
      return l;
    };
    const state = (i: number): StateLayout => (i === 0 ? { stride: c, peCol: 0 } : { stride: 2 * c, peCol: c });
    const first = upload('self_qkv.0', (b) => FusedTwoWay.selfQkv(b, t.layers[0], 0, state(0), 0));
    const blocks = t.layers.map((layer, i) => {
      const next = t.layers[i + 1];
      return {
        b: upload(`block_b.${i}`, (b) => FusedTwoWay.blockB(b, layer, c, state(i))),
        c: upload(`block_c.${i}`, (b) => FusedTwoWay.blockC(b, layer, c, next ?? t.finalAttn)),
      };
    });
    const final = upload('final', (b) => {
      const o = b.load(0, 0, t.finalAttn.internalDim);
      const q = b.load(1, 0, c);
      const y = lin(b, t.finalAttn.outProj, o);
      b.add(y, q, c, y);
      b.store(ln(b, t.normFinal, y), 0, 0, c);
    });
    if (!first || !final || blocks.some((x) => !x.b || !x.c)) {
      for (const l of launches) l.table.release();
      return null;
    }
    // The packs carry these layers: their own copies stay off the GPU (see WeightStore.deferUploads).
    for (const l of [...linears, ...norms]) l.fusedElsewhere();
    return new FusedTwoWay(gpu, t, blocks as { b: Launch; c: Launch }[], first, final);
  }

  /** Self-attention q|k|v [T, 3Ci] of `layer` from the queries at `x` and the PE at `pe`, stored in output `out`. */
  private static selfQkvFrom(b: RowProgramBuilder, layer: TwoWayAttentionBlock, x: number, pe: number, out: number, scratch: number): void {
    const a = layer.selfAttn;
    const ci = a.internalDim;
    const c = a.embeddingDim;
    // Block 0 skips the PE (upstream skip_first_layer_pe); later blocks add it to q and k only.
    const xp = layer.skipFirstLayerPe ? x : b.add(x, pe, c, scratch);
    const s = scratch + c;
    b.store(lin(b, a.qProj, xp, false, s), out, 0, ci);
    b.store(lin(b, a.kProj, xp, false, s), out, ci, ci);
    b.store(lin(b, a.vProj, x, false, s), out, 2 * ci, ci);
  }

  private static selfQkv(b: RowProgramBuilder, layer: TwoWayAttentionBlock, input: number, st: StateLayout, out: number): void {
    const c = layer.selfAttn.embeddingDim;
    const x = b.load(input, 0, c);
    const pe = b.load(input, st.peCol, c);
    const scratch = b.reg(c + Math.max(c, layer.selfAttn.internalDim));
    FusedTwoWay.selfQkvFrom(b, layer, x, pe, out, scratch);
  }

  /** in0: self-attention output, in1: state → out0: state [Q1 | tpe], out1: t2i q of Q1 + tpe. */
  private static blockB(b: RowProgramBuilder, layer: TwoWayAttentionBlock, c: number, st: StateLayout): void {
    const o = b.load(0, 0, layer.selfAttn.internalDim);
    const pe = b.load(1, st.peCol, c);
    const y = lin(b, layer.selfAttn.outProj, o);
    if (!layer.skipFirstLayerPe) b.add(y, b.load(1, 0, c), c, y); // block 0 has no residual
    const q1 = ln(b, layer.norms[0], y);
    b.store(q1, 0, 0, c);
    b.store(pe, 0, c, c);
    const t2i = layer.crossTokenToImage;
    b.store(lin(b, t2i.qProj, b.add(q1, pe, c)), 1, 0, t2i.internalDim);
  }

  /**
   * in0: t2i attention output, in1: state [Q1 | tpe] → out0: state [Q3 | tpe], out1: the i2t
   * attention's k | v [T, 2Ci], out2: the next step's queries (next block's self q|k|v, or the final attention's q).
   */
  private static blockC(b: RowProgramBuilder, layer: TwoWayAttentionBlock, c: number, next: TwoWayAttentionBlock | DecoderAttention): void {
    const t2i = layer.crossTokenToImage;
    const i2t = layer.crossImageToToken;
    const o = b.load(0, 0, t2i.internalDim);
    const q1 = b.load(1, 0, c);
    const pe = b.load(1, c, c);
    const y = lin(b, t2i.outProj, o);
    b.add(y, q1, c, y);
    const q2 = ln(b, layer.norms[1], y);
    const [l0, l1] = layer.mlp.layers;
    const h = lin(b, l0, q2, true);
    const m = lin(b, l1, h, false, q1); // Q1 is dead: reuse its register
    b.add(m, q2, c, m);
    const q3 = ln(b, layer.norms[2], m);
    b.store(q3, 0, 0, c);
    b.store(pe, 0, c, c);
    // The MLP hidden register is free from here: scratch for the projections (if it is wide enough).
    const xp = b.add(q3, pe, c, y);
    const nextCi = 'selfAttn' in next ? c + Math.max(c, next.selfAttn.internalDim) : next.internalDim;
    const needed = i2t.internalDim + nextCi;
    let s = l0.outDim >= needed ? h : b.reg(needed);
    b.store(lin(b, i2t.kProj, xp, false, s), 1, 0, i2t.internalDim);
    b.store(lin(b, i2t.vProj, q3, false, s), 1, i2t.internalDim, i2t.internalDim);
    s += Math.max(i2t.internalDim, 1);
    if ('selfAttn' in next) {
      FusedTwoWay.selfQkvFrom(b, next, q3, pe, 2, s);
    } else {
      b.store(lin(b, next.qProj, xp, false, s), 2, 0, next.internalDim);
    }
  }

  /** Frees the op tables. */
  release(): void {
    for (const l of [this.first, this.final, ...this.blocks.flatMap((x) => [x.b, x.c])]) l.table.release();
  }

  private run(l: Launch, rows: number, inputs: RowTensor[], outputs: RowTensor[]): void {
    tokenRows(this.gpu, { program: l.program, weights: l.weights, table: l.table, rows, inputs, outputs });
  }

  /**
   * image [B·Nq, C], imagePe [Nq, C] (shared), tokens [B·T, C] (also the token PE) → hs [B·T, C],
   * keys [B·Nq, C]: `batch` objects stacked. The row programs treat every token row alone, so the
   * batch only reaches the attentions.
   */
  forward(image: GpuTensor, imagePe: GpuTensor, tokens: GpuTensor, batch = 1): { hs: GpuTensor; keys: GpuTensor } {
    const g = this.gpu;
    const { t } = this;
    const c = t.dim;
    const rows = tokens.size / c; // B·T token rows
    const nT = rows / batch;
    const nq = image.size / c / batch;
    const view = (tensor: GpuTensor, offset: number, rowStride: number): TokenView => ({ tensor, offset, rowStride });
    const attn = (a: DecoderAttention, q: GpuTensor | TokenView, k: GpuTensor | TokenView, v: GpuTensor | TokenView, nqA: number, nkA: number): GpuTensor =>
      attention(g, q, k, v, { batch, heads: a.heads, headDim: a.headDim, nq: nqA, nk: nkA });

    // Block 0's self-attention q|k|v straight from the tokens.
    const ci0 = t.layers[0].selfAttn.internalDim;
    let qkv = g.empty([rows, 3 * ci0], 'f32', 'token-qkv');
    this.run(this.first, rows, [{ tensor: tokens, rowStride: c }], [{ tensor: qkv, rowStride: 3 * ci0 }]);
    let st: GpuTensor = tokens;
    let stStride = c;
    let keys = image;
    let finalQ: GpuTensor | null = null;
    for (const [i, layer] of t.layers.entries()) {
      const sa = layer.selfAttn;
      const t2i = layer.crossTokenToImage;
      const i2t = layer.crossImageToToken;
      // (1) token self-attention, then B: Q1 = LN1(...), and the t2i q.
      const o1 = attn(sa, view(qkv, 0, 3 * sa.internalDim), view(qkv, sa.internalDim, 3 * sa.internalDim), view(qkv, 2 * sa.internalDim, 3 * sa.internalDim), nT, nT);
      qkv.release();
      const s1 = g.empty([rows, 2 * c], 'f32', 'token-state');
      const cq = g.empty([rows, t2i.internalDim], 'f32', 'token-t2i-q');
      this.run(this.blocks[i].b, rows, [{ tensor: o1, rowStride: sa.internalDim }, { tensor: st, rowStride: stStride }], [{ tensor: s1, rowStride: 2 * c }, { tensor: cq, rowStride: t2i.internalDim }]);
      o1.release();
      if (st !== tokens) st.release();
      // (2) tokens attend to the image (k from K + pe, v from K), then C: Q3, the i2t k|v, the next q.
      const kPe = binary(g, 'add', keys, imagePe);
      const ck = t2i.kProj.forward(kPe);
      const cv = t2i.vProj.forward(keys);
      const o2 = attn(t2i, cq, ck, cv, nT, nq);
      [cq, ck, cv].forEach((x) => x.release());
      const s3 = g.empty([rows, 2 * c], 'f32', 'token-state');
      const kv = g.empty([rows, 2 * i2t.internalDim], 'f32', 'token-i2t-kv');
      const next = t.layers[i + 1];
      const nextWidth = next ? 3 * next.selfAttn.internalDim : t.finalAttn.internalDim;
      const nextQ = g.empty([rows, nextWidth], 'f32', next ? 'token-qkv' : 'token-final-q');
      this.run(this.blocks[i].c, rows, [{ tensor: o2, rowStride: t2i.internalDim }, { tensor: s1, rowStride: 2 * c }], [
        { tensor: s3, rowStride: 2 * c }, { tensor: kv, rowStride: 2 * i2t.internalDim }, { tensor: nextQ, rowStride: nextWidth },
      ]);
      o2.release();
      s1.release();
      st = s3;
      stStride = 2 * c;
      if (next) qkv = nextQ;
      else finalQ = nextQ;
      // (4) the image attends to the tokens: K' = LN4(K + Attn(K + pe, Q3 + tpe, Q3)).
      const qq = i2t.qProj.forward(kPe);
      kPe.release();
      const o3 = attn(i2t, qq, view(kv, 0, 2 * i2t.internalDim), view(kv, i2t.internalDim, 2 * i2t.internalDim), nq, nT);
      qq.release();
      kv.release();
      const k4 = i2t.outProj.forward(o3.reshape([batch * nq, i2t.internalDim]), { residual: keys });
      o3.release();
      if (keys !== image) keys.release();
      keys = layer.norms[3].forward(k4);
      k4.release();
    }

    // Final token → image attention: Q = LN(Q + Attn(Q + tpe, K + pe, K)).
    const fa = t.finalAttn;
    const kPe = binary(g, 'add', keys, imagePe);
    const fk = fa.kProj.forward(kPe);
    kPe.release();
    const fv = fa.vProj.forward(keys);
    const of = attn(fa, finalQ!, fk, fv, nT, nq);
    [finalQ!, fk, fv].forEach((x) => x.release());
    const hs = g.empty([rows, c], 'f32', 'hs');
    this.run(this.final, rows, [{ tensor: of, rowStride: fa.internalDim }, { tensor: st, rowStride: stStride }], [{ tensor: hs, rowStride: c }]);
    of.release();
    if (st !== tokens) st.release();
    return { hs, keys };
  }
}
