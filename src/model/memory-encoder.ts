// Memory encoder: turns a slice's raw backbone feature and its predicted mask into the memory that
// later slices attend to. Ports sam2/modeling/memory_encoder.py (MaskDownSampler, CXBlock, Fuser,
// MemoryEncoder) and the mask preparation of SAM2Base._encode_new_memory (sam2/modeling/sam2_base.py).
import { binary, unary } from '../kernels/elementwise/elementwise.js';
import { conv2d } from '../kernels/conv/conv.js';
import { addNoObjectTerm } from '../kernels/decisions/decisions.js';
import { linear } from '../kernels/matmul/matmul.js';
import type { Gpu } from '../runtime/gpu.js';
import type { WeightOperand } from '../kernels/packed-weight/packed-weight.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { Sam2Config } from './config.js';
import { LayerNorm } from './layers/layer-norm.js';
import { Linear } from './layers/linear.js';
import { noProbe, type Probe } from './probe.js';
import type { WeightScope } from './weights.js';
import { Boundary, convertOwned, outF32 } from './layers/dtype-boundary.js';
import { itemView, readItem, writeItem } from './layers/batch-item.js';
import { copyRange } from '../kernels/mask-select/mask-select.js';

const LN2D_EPS = 1e-6;

interface DownsampleStage {
  weight: WeightOperand;
  bias: GpuTensor;
  norm: LayerNorm;
}

/** ConvNeXt block: depthwise 7×7 → LayerNorm2d → Linear 4× → GELU → Linear → ·gamma → residual. */
class CXBlock {
  private readonly dwWeight: GpuTensor;
  private readonly dwBias: GpuTensor;
  private readonly norm: LayerNorm;
  private readonly pw1: Linear;
  private readonly pw2Scaled: { weight: WeightOperand; bias: GpuTensor };
  private readonly kernel: number;
  private readonly padding: number;

  constructor(private readonly gpu: Gpu, w: WeightScope, kernel: number, padding: number) {
    this.kernel = kernel;
    this.padding = padding;
    this.dwWeight = w.tensor('dwconv.weight');
    this.dwBias = w.tensor('dwconv.bias');
    this.norm = new LayerNorm(gpu, w.scope('norm'), LN2D_EPS);
    this.pw1 = new Linear(gpu, w.scope('pwconv1'));
    // Layer scale folded into pwconv2: gamma·(W·y + b) = (gamma⊙W)·y + gamma⊙b.
    const [out, inn] = w.shape('pwconv2.weight');
    const gamma = w.has('gamma') ? w.host('gamma') : new Float32Array(out).fill(1);
    this.pw2Scaled = {
      weight: w.derivedMatrix('pwconv2.weight*gamma', 'pwconv2.weight', () => {
        const W = w.host('pwconv2.weight');
        const data = new Float32Array(W.length);
        for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) data[o * inn + i] = Math.fround(gamma[o] * W[o * inn + i]);
        return { data, shape: [out, inn] };
      }),
      bias: w.derived('pwconv2.bias*gamma', () => {
        const b = w.host('pwconv2.bias');
        return { data: Float32Array.from(b, (v, o) => Math.fround(gamma[o] * v)), shape: [out] };
      }),
    };
  }

  /** x [F, F, C] or [B, F, F, C] → the same shape (x is not modified). */
  forward(x: GpuTensor): GpuTensor {
    const c = x.shape[x.shape.length - 1];
    // Depthwise conv, groups = C.
    const dw = conv2d(this.gpu, x, this.dwWeight, this.dwBias, { padding: this.padding, groups: c });
    const h = this.pw1.forward(dw, { act: 'gelu', prologue: this.norm }); // LN fused into the GEMM: [HW, 4C]
    dw.release();
    const hw = x.size / c;
    const y = this.gpu.empty(x.shape, x.dtype, 'cxblock');
    // residual: x + gamma·pwconv2(h)
    linear(this.gpu, h, this.pw2Scaled.weight, this.pw2Scaled.bias, { act: 'none', residual: x.reshape([hw, c]) }, y.reshape([hw, c]));
    h.release();
    return y;
  }
}

export interface MemoryEncoderInputs {
  /** The raw neck feature of the slice (never the memory-conditioned one), [F, F, C]. */
  pixFeat: GpuTensor;
  /** Mask logits at model resolution [S, S] (after object-score gating). */
  highResMasks: GpuTensor;
  /** Prompted slices binarize the mask (logit > 0); tracked slices use sigmoid(logit). */
  binarize: boolean;
  /**
   * Object presence: a score logit (≤ 0 means absent: `no_obj_embed_spatial` is added to the
   * memory), or the object's decision flags on the GPU (src/kernels/decisions), so that the
   * memory of a tracked slice needs no host decision.
   */
  objectScoreLogit: number | GpuTensor;
}

/**
 * Several objects' masks already stacked, as the batched SAM heads return them: one launch
 * prepares every mask and one reads every object's presence from its flag record.
 */
export interface StackedMemoryInputs {
  /** Mask logits [B, S, S] (after object-score gating). */
  highResMasks: GpuTensor;
  binarize: boolean;
  /** Decision flags u32 [B, stride] (src/kernels/decisions). */
  flags: GpuTensor;
}

type BatchInputs = ReadonlyArray<Omit<MemoryEncoderInputs, 'pixFeat'>> | StackedMemoryInputs;

export class MemoryEncoder {
  private readonly downsample: DownsampleStage[] = [];
  private readonly downsampleOut: Linear;
  private readonly pixFeatProj: Linear;
  private readonly fuser: CXBlock[];
  private readonly outProj: Linear | null;
  private readonly noObjEmbedSpatial: GpuTensor | null;
  private readonly md: Sam2Config['memoryEncoder']['maskDownsampler'];

  constructor(
    private readonly gpu: Gpu,
    root: WeightScope,
    private readonly cfg: Sam2Config,
  ) {
    const w = root.scope('memory_encoder');
    this.md = cfg.memoryEncoder.maskDownsampler;
    const layers = cfg.maskDownsamplerNumLayers;
    // nn.Sequential indices: conv 3i, LayerNorm2d 3i+1, GELU 3i+2; the final 1×1 conv is 3·layers.
    for (let i = 0; i < layers; i++) {
      this.downsample.push({
        weight: w.matrix(`mask_downsampler.encoder.${3 * i}.weight`),
        bias: w.tensor(`mask_downsampler.encoder.${3 * i}.bias`),
        norm: new LayerNorm(gpu, w.scope(`mask_downsampler.encoder.${3 * i + 1}`), LN2D_EPS),
      });
    }
    this.downsampleOut = new Linear(gpu, w.scope(`mask_downsampler.encoder.${3 * layers}`));
    this.pixFeatProj = new Linear(gpu, w.scope('pix_feat_proj'));
    const fz = cfg.memoryEncoder.fuser;
    this.fuser = Array.from({ length: fz.numLayers }, (_, i) => new CXBlock(gpu, w.scope(`fuser.layers.${i}`), fz.kernelSize, fz.padding));
    this.outProj = cfg.memoryEncoderHasOutProj ? new Linear(gpu, w.scope('out_proj')) : null;
    this.noObjEmbedSpatial = cfg.flags.noObjEmbedSpatial ? root.tensor('no_obj_embed_spatial').reshape([cfg.memDim]) : null;
    this.act = root.activations;
  }

  /** Activation storage inside the memory encoder (inputs are converted to it; the output is f32). */
  readonly act: 'f32' | 'f16';

  /** → maskmem_features [F*F, memDim] in f32 (the bank rounds it to bf16 when storing). */
  forward(inp: MemoryEncoderInputs, probe: Probe = noProbe): GpuTensor {
    return this.forwardBatch(inp.pixFeat, [inp], probe);
  }

  /**
   * Several objects on one slice as one chain: they share the slice's feature `pixFeat`; each has
   * its own mask, binarization and presence. → [B·F·F, memDim] f32, rows of object b equal to
   * `forward` of object b.
   */
  forwardBatch(pixFeat: GpuTensor, objects: BatchInputs, probe: Probe = noProbe): GpuTensor {
    const S = this.cfg.imageSize;
    if ('flags' in objects) {
      const m = objects.highResMasks;
      if (m.shape.length !== 3 || m.shape[1] !== S || m.shape[2] !== S) throw new Error(`MemoryEncoder.forwardBatch: stacked masks ${m.shape.join('×')} must be [B, ${S}, ${S}]`);
    } else if (objects.length === 0) throw new Error('MemoryEncoder.forwardBatch: no objects');
    const b = new Boundary(this.gpu, this.act);
    const out = this.forwardIn(b.in(pixFeat), objects, probe);
    b.release();
    return outF32(this.gpu, out);
  }

  private forwardIn(pixFeat: GpuTensor, inputs: BatchInputs, probe: Probe): GpuTensor {
    const { gpu, cfg } = this;
    const S = cfg.imageSize;
    const F = cfg.imageEmbeddingSize;
    const stacked = 'flags' in inputs ? inputs : null;
    const objects = stacked ? [] : (inputs as ReadonlyArray<Omit<MemoryEncoderInputs, 'pixFeat'>>);
    const B = stacked ? stacked.highResMasks.shape[0] : objects.length;
    // Mask for memory: (logit > 0) or sigmoid(logit), then ·20 − 10 (sigmoid scale / bias for mem enc).
    // (Computed from the logits as given, f32, before any conversion: a tiny positive logit must stay > 0.)
    const affine = { postScale: cfg.flags.sigmoidScaleForMemEnc, postBias: cfg.flags.sigmoidBiasForMemEnc };
    let prepared: GpuTensor;
    if (stacked) {
      prepared = unary(gpu, stacked.binarize ? 'step' : 'sigmoid', stacked.highResMasks.reshape([B, S, S, 1]), undefined, 1, 0, affine);
    } else if (B === 1) {
      prepared = unary(gpu, objects[0].binarize ? 'step' : 'sigmoid', objects[0].highResMasks.reshape([S, S, 1]), undefined, 1, 0, affine);
    } else {
      prepared = gpu.empty([B, S, S, 1], 'f32', 'mask-for-mem');
      objects.forEach((o, i) =>
        writeItem(gpu, prepared, i, [S, S, 1], (out) => unary(gpu, o.binarize ? 'step' : 'sigmoid', o.highResMasks.reshape([S, S, 1]), out, 1, 0, affine)),
      );
    }
    const mask = convertOwned(gpu, prepared, this.act);
    probe('mask_for_mem', mask, 'hwc');
    // MaskDownSampler: [conv k3 s2 → LN2d → GELU] × L, then a 1×1 conv.  [S,S,1] → [F,F,C]
    let x = mask;
    for (const st of this.downsample) {
      const c = conv2d(gpu, x, st.weight, st.bias, { stride: this.md.stride, padding: this.md.padding });
      x.release();
      const g = st.norm.forward(c, undefined, 'gelu'); // LN2d → GELU, one launch
      x = g.reshape(c.shape);
      c.release();
    }
    const hwc = x.shape[x.shape.length - 1];
    const down = this.downsampleOut.forward(x.reshape([B * F * F, hwc])); // [B·HW, C]
    x.release();
    probe('mask_downsampler', down.reshape([B * F, F, down.shape[1]]), 'hwc');
    // pix_feat_proj(feat) + downsampled mask
    const C = pixFeat.shape[pixFeat.shape.length - 1];
    let fused: GpuTensor;
    if (B > 1 && probe === noProbe) {
      // Per object, the add in the projection's epilogue as for one object (one rounding of the
      // f32 sum: a shared projection added afterwards would round twice with f16 activations).
      fused = gpu.empty([B, F, F, C], down.dtype, 'memenc-fused');
      for (let i = 0; i < B; i++) {
        const downI = readItem(gpu, down, i, [F * F, C]);
        writeItem(gpu, fused, i, [F * F, C], (out) => this.pixFeatProj.forward(pixFeat.reshape([F * F, C]), { residual: downI }, out));
        downI.release();
      }
    } else if (B > 1) {
      // Probed (the unfused order): the projection once, broadcast over the objects; proj + down = down + proj.
      const proj = this.pixFeatProj.forward(pixFeat.reshape([F * F, C])); // [HW, C]
      probe('pix_feat_proj', proj.reshape([F, F, C]), 'hwc');
      fused = binary(gpu, 'add', down, proj).reshape([B, F, F, C]);
      proj.release();
    } else if (probe === noProbe) {
      // The add rides in the projection's epilogue (the same f32 sum).
      fused = this.pixFeatProj.forward(pixFeat.reshape([F * F, C]), { residual: down }).reshape([F, F, C]);
    } else {
      const proj = this.pixFeatProj.forward(pixFeat.reshape([F * F, C])); // [HW, C]
      probe('pix_feat_proj', proj.reshape([F, F, C]), 'hwc');
      fused = binary(gpu, 'add', proj, down).reshape([F, F, C]);
      proj.release();
    }
    down.release();
    for (const block of this.fuser) {
      const y = block.forward(fused);
      fused.release();
      fused = y;
    }
    probe('fuser', fused, 'hwc');
    let out = this.outProj ? this.outProj.forward(fused.reshape([B * F * F, C])) : fused.reshape([B * F * F, C]);
    if (this.outProj) fused.release();
    const embed = this.noObjEmbedSpatial;
    const presence0 = stacked ? stacked.flags : objects[0].objectScoreLogit;
    if (embed && stacked) {
      addNoObjectTerm(gpu, out, embed, stacked.flags, B);
    } else if (embed && B === 1 && typeof presence0 !== 'number') {
      addNoObjectTerm(gpu, out, embed, presence0, 1);
    } else if (embed && B === 1 && typeof presence0 === 'number' && !(presence0 > 0)) {
      const withEmbed = binary(gpu, 'add', out, embed);
      out.release();
      out = withEmbed;
    } else if (embed) {
      const md = out.shape[1];
      objects.forEach((o, i) => {
        const presence = o.objectScoreLogit;
        if (typeof presence === 'number' && presence > 0) return;
        const view = itemView(gpu, out, i, [F * F, md]);
        if (view && typeof presence !== 'number') {
          addNoObjectTerm(gpu, view, embed, presence, 1);
          return;
        }
        // Object i's rows + no_obj_embed_spatial through a scratch (a binding cannot be read and written).
        const rows = readItem(gpu, out, i, [F * F, md]);
        let withEmbed: GpuTensor;
        if (typeof presence === 'number') {
          withEmbed = binary(gpu, 'add', rows, embed);
          rows.release();
        } else {
          withEmbed = rows; // not a view here (unaligned): a copy, safe to modify in place
          addNoObjectTerm(gpu, withEmbed, embed, presence, 1);
        }
        copyRange(gpu, withEmbed, out, { dstOffset: i * F * F * md, count: F * F * md });
        withEmbed.release();
      });
    }
    probe('maskmem_features', out.reshape([B * F, F, cfg.memDim]), 'hwc');
    return out;
  }
}
