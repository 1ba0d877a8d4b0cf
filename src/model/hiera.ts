// Hiera trunk of the SAM 2 image encoder, channels-last.
// Upstream: sam2/modeling/backbones/hieradet.py (Hiera: patch embedding, windowed positional
// embedding, the block schedule, stage outputs) and backbones/utils.py (PatchEmbed).
import { conv2d } from '../kernels/conv/conv.js';
import { binary } from '../kernels/elementwise/elementwise.js';
import type { Gpu } from '../runtime/gpu.js';
import type { WeightOperand } from '../kernels/packed-weight/packed-weight.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { Sam2Config } from './config.js';
import { MultiScaleBlock, type FeatureMap, type HieraRunOptions } from './hiera-block.js';
import { hieraPosEmbed } from './hiera-pos-embed.js';
import { uploadFloat } from './layers/upload-float.js';
import { noProbe, type Probe } from './probe.js';
import type { WeightScope } from './weights.js';

/** PatchEmbed: Conv2d(3 → E, kernel 7, stride 4, padding 3). */
const PATCH = { kernel: 7, stride: 4, padding: 3 } as const;

export class Hiera {
  readonly blocks: MultiScaleBlock[];
  private readonly patchWeight: WeightOperand; // [E, 3, 7, 7]
  private readonly patchBias: GpuTensor; // [E]
  private readonly posEmbeds = new Map<string, GpuTensor>();
  private readonly embedDim: number;

  constructor(
    private readonly gpu: Gpu,
    private readonly scope: WeightScope,
    readonly config: Sam2Config,
    opts: HieraRunOptions = {},
  ) {
    const e = config.trunk.embedDim;
    this.embedDim = e;
    const pw = scope.shape('patch_embed.proj.weight');
    if (pw.join() !== [e, 3, PATCH.kernel, PATCH.kernel].join()) throw new Error(`weights: ${scope.key('patch_embed.proj.weight')} has shape [${pw}], expected [${e}, 3, 7, 7]`);
    this.patchWeight = scope.matrix('patch_embed.proj.weight');
    this.patchBias = scope.tensor('patch_embed.proj.bias', [e]);
    this.blocks = config.hiera.blocks.map((b) => new MultiScaleBlock(gpu, scope.scope(`blocks.${b.index}`), b, opts));
  }

  /** Patch-grid side for an image side (Conv2d output size). */
  static gridSize(imageSize: number): number {
    return Math.floor((imageSize + 2 * PATCH.padding - PATCH.kernel) / PATCH.stride) + 1;
  }

  /** bicubic(pos_embed) + tiled pos_embed_window for an h×w grid, [h, w, E], built once per size. */
  posEmbed(h: number, w: number): GpuTensor {
    const key = `${h}x${w}`;
    let t = this.posEmbeds.get(key);
    if (!t) {
      const { windowPosEmbedBkgSpatialSize: bkg, windowSpec } = this.config.trunk;
      const e = this.embedDim;
      const data = hieraPosEmbed(
        this.scope.host('pos_embed'),
        bkg,
        this.scope.host('pos_embed_window'),
        windowSpec[0],
        e,
        h,
        w,
      );
      t = uploadFloat(this.gpu, data, [h, w, e], this.scope.activations, `hiera pos embed ${key}`);
      this.posEmbeds.set(key, t);
    }
    return t;
  }

  /**
   * image [S, S, 3] (or a batch [B, S, S, 3], encoded together) → stage outputs, finest first,
   * each [H_k, W_k, C_k] (or [B, H_k, W_k, C_k]; the caller releases them).
   */
  forward(image: GpuTensor, probe: Probe = noProbe): FeatureMap[] {
    const batched = image.shape.length === 4;
    const [b, hi, wi, ci] = batched ? image.shape : [1, ...image.shape];
    if ((image.shape.length !== 3 && !batched) || ci !== 3) throw new Error(`Hiera: image must be [H, W, 3] or [B, H, W, 3], got [${image.shape.join(', ')}]`);
    const h = Hiera.gridSize(hi);
    const w = Hiera.gridSize(wi);

    // 1. Patch embedding (7×7 / s4 / p3 conv).  [b, h, w, E]
    const patches = conv2d(this.gpu, image, this.patchWeight, this.patchBias, { stride: PATCH.stride, padding: PATCH.padding });
    probe('trunk.patch_embed', patches, 'hwc');

    // 2. + positional embedding (background bicubic + window tiles), broadcast over the batch.  [b, h, w, E]
    const pos = this.posEmbed(h, w);
    probe('trunk.pos_embed', pos, 'hwc');
    let x: FeatureMap = { t: binary(this.gpu, 'add', patches, pos), h, w, b };
    patches.release();

    // 3. Blocks; stage outputs are the maps after each stage's last block.
    const stageEnds = this.config.hiera.stageEnds;
    const outputs: FeatureMap[] = [];
    for (const [i, blk] of this.blocks.entries()) {
      const next = blk.forward(x);
      const wasStageOutput = outputs.length > 0 && outputs[outputs.length - 1] === x;
      if (!wasStageOutput) x.t.release();
      x = next;
      const c = x.t.size / (b * x.h * x.w);
      const shape = batched ? [b, x.h, x.w, c] : [x.h, x.w, c];
      probe(`trunk.block${String(i).padStart(2, '0')}`, x.t.reshape(shape), 'hwc');
      const stage = stageEnds.indexOf(i);
      if (stage >= 0) {
        outputs.push(x);
        probe(`trunk.stage${stage + 1}`, x.t.reshape(shape), 'hwc');
      }
    }
    return outputs;
  }

  release(): void {
    for (const t of this.posEmbeds.values()) t.release();
    this.posEmbeds.clear();
  }
}
