// SAM 2 image encoder step for one preprocessed slice: Hiera trunk → FPN neck → scalp, plus the
// mask decoder's high-res projections that SAM2Base.forward_image applies once per frame.
// Upstream: sam2/modeling/backbones/image_encoder.py (ImageEncoder) and sam2/modeling/sam2_base.py
// (forward_image: backbone_fpn[0] = sam_mask_decoder.conv_s0(·), backbone_fpn[1] = conv_s1(·)).
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
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
    const boundary = new Boundary(this.gpu, this.act);
    const f = this.encodeIn(boundary.in(image), probe);
    boundary.release();
    return { s0: outF32(this.gpu, f.s0), s1: outF32(this.gpu, f.s1), l2: outF32(this.gpu, f.l2) };
  }

  private encodeIn(image: GpuTensor, probe: Probe): ImageFeatures {
    const s = this.config.imageSize;
    if (image.shape.length !== 3 || image.shape[0] !== s || image.shape[1] !== s || image.shape[2] !== 3) {
      throw new Error(`ImageEncoder: image must be [${s}, ${s}, 3], got [${image.shape.join(', ')}]`);
    }
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
    const s0 = this.convS0.forward(l0.t, {}, this.gpu.empty([l0.h, l0.w, c / 8], this.act, 'feat s0')); // [S/4, S/4, C/8]
    const s1 = this.convS1.forward(l1.t, {}, this.gpu.empty([l1.h, l1.w, c / 4], this.act, 'feat s1')); // [S/8, S/8, C/4]
    probe('hires.s0', s0, 'hwc');
    probe('hires.s1', s1, 'hwc');
    l0.t.release();
    l1.t.release();
    for (const l of levels.slice(2, kept - 1)) l.t.release();
    // The kept coarsest level is returned as is: a view would not own (release) its storage.
    const top = levels[kept - 1];
    if (top.t.shape.length !== 3) throw new Error('ImageEncoder: neck level tensors must be [h, w, C]');
    return { s0, s1, l2: top.t };
  }

  release(): void {
    this.trunk.release();
    this.neck.release();
  }
}
