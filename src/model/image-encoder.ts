// SAM 2 image encoder step for one preprocessed slice: Hiera trunk → FPN neck → scalp, plus the
// mask decoder's high-res projections that SAM2Base.forward_image applies once per frame.
// Upstream: sam2/modeling/backbones/image_encoder.py (ImageEncoder) and sam2/modeling/sam2_base.py
// (forward_image: backbone_fpn[0] = sam_mask_decoder.conv_s0(·), backbone_fpn[1] = conv_s1(·)).
import { cast } from '../kernels/cast/cast.js';
import type { Gpu } from '../runtime/gpu.js';
import { GpuTensor } from '../runtime/tensor.js';
import type { Sam2Config } from './config.js';
import { FpnNeck } from './fpn-neck.js';
import type { HieraRunOptions } from './hiera-block.js';
import { Hiera } from './hiera.js';
import { Linear } from './layers/linear.js';
import { noProbe, type Probe } from './probe.js';
import type { ImageFeatures } from './sam2-parts.js';
import type { WeightScope } from './weights.js';
import { Boundary, outF32 } from './layers/dtype-boundary.js';

export type { ImageFeatures };

export class ImageEncoder {
  readonly trunk: Hiera;
  readonly neck: FpnNeck;
  private readonly convS0: Linear;
  private readonly convS1: Linear;

  /** `root` is the scope of the whole checkpoint (image_encoder.* and sam_mask_decoder.conv_s*). */
  constructor(
    private readonly gpu: Gpu,
    root: WeightScope,
    readonly config: Sam2Config,
    opts: HieraRunOptions = {},
  ) {
    const { neck, flags, hiddenDim } = config;
    if (!flags.useHighResFeaturesInSam) {
      throw new Error('ImageEncoder: configs without use_high_res_features_in_sam are not supported (every SAM 2 config enables it)');
    }
    if (neck.backboneChannelList.length - neck.scalp < 3) {
      throw new Error(`ImageEncoder: ${neck.backboneChannelList.length} neck levels with scalp ${neck.scalp} leave fewer than the 3 levels SAM 2 uses`);
    }
    this.trunk = new Hiera(gpu, root.scope('image_encoder.trunk'), config, opts);
    this.neck = new FpnNeck(gpu, root.scope('image_encoder.neck'), neck);
    this.convS0 = new Linear(gpu, root.scope('sam_mask_decoder.conv_s0'), { inDim: hiddenDim, outDim: hiddenDim / 8 });
    this.convS1 = new Linear(gpu, root.scope('sam_mask_decoder.conv_s1'), { inDim: hiddenDim, outDim: hiddenDim / 4 });
    this.act = root.activations;
  }

  /** Activation storage inside the encoder (its outputs are always f32). */
  readonly act: 'f32' | 'f16';

  /** Side of the feature grid of level `level` (stride 4·2^level) for this config's image size. */
  private levelSize(level: number): number {
    let s = Hiera.gridSize(this.config.imageSize);
    for (let i = 0; i < level; i++) s = Math.floor(s / 2);
    return s;
  }

  /** Sine PE of the stride-16 feature grid ([F, F, C], `vision_pos_enc[-1]`); a cached constant of the encoder's activation type. */
  get posL2(): GpuTensor {
    const lastKept = this.config.neck.backboneChannelList.length - this.config.neck.scalp - 1;
    const s = this.levelSize(lastKept);
    return this.neck.position(s, s);
  }

  /** image [S, S, 3] → features, f32 whatever the encoder runs in (the caller releases s0, s1 and l2). */
  encode(image: GpuTensor, probe: Probe = noProbe): ImageFeatures {
    this.checkImage(image);
    const boundary = new Boundary(this.gpu, this.act);
    const f = this.encodeIn(boundary.in(image), 1, probe);
    boundary.release();
    return { s0: outF32(this.gpu, f.s0), s1: outF32(this.gpu, f.s1), l2: outF32(this.gpu, f.l2) };
  }

  /**
   * Most images one encodeBatch call runs together on this device: the largest map of a batch
   * (a block's input or its projection before q-pooling, a neck level) must fit one storage
   * binding with room to spare (half the limit).
   */
  get maxBatch(): number {
    const bytes = this.act === 'f16' ? 2 : 4;
    let h = Hiera.gridSize(this.config.imageSize);
    let largest = 0;
    for (const blk of this.config.hiera.blocks) {
      largest = Math.max(largest, h * h * Math.max(blk.dim, blk.dimOut) * bytes);
      if (blk.qStride) h = Math.floor(h / 2);
    }
    largest = Math.max(largest, Hiera.gridSize(this.config.imageSize) ** 2 * this.config.neck.dModel * bytes);
    return Math.max(1, Math.floor(this.gpu.device.limits.maxStorageBufferBindingSize / 2 / largest));
  }

  /**
   * Several images [S, S, 3] encoded together as one batch (B > 1 through patch embedding, every
   * block's GEMMs and the neck; the windowed attention runs per image), in groups of at most
   * maxBatch. Each result equals encode(image) and is owned by the caller.
   */
  encodeBatch(images: readonly GpuTensor[]): ImageFeatures[] {
    for (const im of images) this.checkImage(im);
    const out: ImageFeatures[] = [];
    const s = this.config.imageSize;
    const per = s * s * 3;
    for (let i0 = 0; i0 < images.length; i0 += this.maxBatch) {
      const group = images.slice(i0, i0 + this.maxBatch);
      if (group.length === 1) {
        out.push(this.encode(group[0]));
        continue;
      }
      const b = group.length;
      // Stack the images into one [B, S, S, 3] input (copies; a cast where the encoder runs in f16).
      const stacked = this.gpu.empty([b, s, s, 3], this.act, 'encoder batch input');
      const boundary = new Boundary(this.gpu, this.act);
      group.forEach((im, i) => this.gpu.copyInto(boundary.in(im), itemView(stacked, i, [s, s, 3], per)));
      boundary.release();
      const f = this.encodeIn(stacked, b, noProbe);
      stacked.release();
      for (let i = 0; i < b; i++) out.push({ s0: splitF32(this.gpu, f.s0, i, b), s1: splitF32(this.gpu, f.s1, i, b), l2: splitF32(this.gpu, f.l2, i, b) });
      f.s0.release();
      f.s1.release();
      f.l2.release();
    }
    return out;
  }

  private checkImage(image: GpuTensor): void {
    const s = this.config.imageSize;
    if (image.shape.length !== 3 || image.shape[0] !== s || image.shape[1] !== s || image.shape[2] !== 3) {
      throw new Error(`ImageEncoder: image must be [${s}, ${s}, 3], got [${image.shape.join(', ')}]`);
    }
  }

  /** One image [S, S, 3] or a batch [b, S, S, 3] of the encoder's activation type; features of the same batch. */
  private encodeIn(image: GpuTensor, b: number, probe: Probe): ImageFeatures {
    void this.posL2; // build the constant PE before the neck probes it

    // 1. Trunk: stage outputs, finest first.
    const stages = this.trunk.forward(image, probe);

    // 2. Neck: all levels, finest first; scalp drops the coarsest (after its top-down use).
    const levels = this.neck.forward(stages, probe);
    for (const st of stages) st.t.release();
    const kept = levels.length - this.config.neck.scalp;
    for (const l of levels.slice(kept)) l.t.release();

    // 3. High-res projections of levels 0 and 1 (mask decoder conv_s0 / conv_s1).
    const [l0, l1] = levels;
    const c = this.config.hiddenDim;
    const lead = b === 1 ? [] : [b];
    const s0 = this.convS0.forward(l0.t, {}, this.gpu.empty([...lead, l0.h, l0.w, c / 8], this.act, 'feat s0')); // [(b,) S/4, S/4, C/8]
    const s1 = this.convS1.forward(l1.t, {}, this.gpu.empty([...lead, l1.h, l1.w, c / 4], this.act, 'feat s1')); // [(b,) S/8, S/8, C/4]
    probe('hires.s0', s0, 'hwc');
    probe('hires.s1', s1, 'hwc');
    l0.t.release();
    l1.t.release();
    for (const l of levels.slice(2, kept - 1)) l.t.release();
    // The kept coarsest level is returned as is: a view would not own (release) its storage.
    const top = levels[kept - 1];
    if (top.t.shape.length !== (b === 1 ? 3 : 4)) throw new Error('ImageEncoder: neck level tensors must be [h, w, C] (or [b, h, w, C])');
    return { s0, s1, l2: top.t };
  }

  release(): void {
    this.trunk.release();
    this.neck.release();
  }
}

/** Item i of a batch tensor whose items hold `per` elements, viewed as `shape` (not owned: never released). */
function itemView(t: GpuTensor, i: number, shape: number[], per: number): GpuTensor {
  const bytes = t.byteLength / t.size;
  return new GpuTensor(t.buffer, shape, t.dtype, t.offset + i * per * bytes, undefined, `${t.label}[${i}]`);
}

/** Item i of a [b, h, w, c] feature batch as its own f32 tensor [h, w, c] (a copy, or the f32 cast). */
function splitF32(gpu: Gpu, t: GpuTensor, i: number, b: number): GpuTensor {
  const shape = t.shape.slice(1);
  const item = itemView(t, i, shape, t.size / b);
  return item.dtype === 'f32' ? gpu.clone(item, t.label) : cast(gpu, item, 'f32', t.label);
}
