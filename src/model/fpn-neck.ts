// FPN neck of the SAM 2 image encoder, channels-last.
// Upstream: sam2/modeling/backbones/image_encoder.py (FpnNeck) and position_encoding.py
// (PositionEmbeddingSine). Lateral 1×1 convs (`convs.k` acts on backbone level n−k, i.e. convs.0 on
// the coarsest stage); going from coarse to fine, levels listed in fpn_top_down_levels add the
// nearest-2× upsampled previous level (`fuse_type` sum, or avg = half the sum); the others are
// purely lateral. Each level has a constant sine position encoding of its grid.
import { unary } from '../kernels/elementwise/elementwise.js';
import { nearestUp2 } from '../kernels/resize/resize.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { FpnNeckSpec } from './config.js';
import type { FeatureMap } from './hiera-block.js';
import { Linear } from './layers/linear.js';
import { noProbe, type Probe } from './probe.js';
import { sinePositionEncodingF32 } from '../kernels/position/position-f32.js';
import type { WeightScope } from './weights.js';
import { uploadFloat } from './layers/upload-float.js';

export class FpnNeck {
  /** convs[k] maps backbone level n−k (coarsest first) to d_model. */
  private readonly convs: Linear[];
  private readonly positions = new Map<string, GpuTensor>();

  constructor(
    private readonly gpu: Gpu,
    scope: WeightScope,
    readonly spec: FpnNeckSpec,
  ) {
    if (spec.kernelSize !== 1 || spec.stride !== 1 || spec.padding !== 0) {
      throw new Error(`FpnNeck: only 1×1 lateral convs are supported (kernel ${spec.kernelSize}, stride ${spec.stride}, padding ${spec.padding})`);
    }
    if (!spec.positionEncoding.normalize) {
      throw new Error('FpnNeck: PositionEmbeddingSine(normalize=False) is not supported (every SAM 2 config normalizes)');
    }
    if (spec.fpnInterpModel !== 'nearest') {
      throw new Error(`FpnNeck: fpn_interp_model "${spec.fpnInterpModel}" is not supported (only "nearest", as in every SAM 2 config)`);
    }
    this.convs = spec.backboneChannelList.map((c, k) => new Linear(gpu, scope.scope(`convs.${k}.conv`), { inDim: c, outDim: spec.dModel }));
    this.act = scope.activations;
  }

  /** Activation storage of the levels and position encodings. */
  private readonly act: 'f32' | 'f16';

  /** PositionEmbeddingSine of an h×w grid on the host, [h, w, num_pos_feats]. */
  private sineTable(h: number, w: number): Float32Array {
    const pe = this.spec.positionEncoding;
    return sinePositionEncodingF32(h, w, pe.numPosFeats, pe.temperature, pe.scale ?? 2 * Math.PI);
  }

  /** Sine position encoding of an h×w grid, [h, w, d_model], cached per grid size. */
  position(h: number, w: number): GpuTensor {
    const key = `${h}x${w}`;
    let t = this.positions.get(key);
    if (!t) {
      const data = this.sineTable(h, w);
      t = uploadFloat(this.gpu, data, [h, w, this.spec.positionEncoding.numPosFeats], this.act, `neck sine pe ${key}`);
      this.positions.set(key, t);
    }
    return t;
  }

  /**
   * Backbone maps (finest first) → all neck levels (finest first), each [h, w, d_model]. The caller
   * releases the returned maps; `stages` are left to the caller too.
   */
  forward(stages: FeatureMap[], probe: Probe = noProbe): FeatureMap[] {
    const n = this.convs.length;
    if (stages.length !== n) throw new Error(`FpnNeck: got ${stages.length} backbone levels, expected ${n}`);
    const d = this.spec.dModel;
    // Images encoded together: maps are [b, h, w, d] (plain [h, w, d] for one image).
    const b = stages[0].b ?? 1;
    const shape = (h: number, w: number) => (b === 1 ? [h, w, d] : [b, h, w, d]);
    const out: FeatureMap[] = new Array(n);
    let prev: FeatureMap | null = null;
    // Coarse to fine.
    for (let i = n - 1; i >= 0; i--) {
      const x = stages[i];
      const conv = this.convs[n - 1 - i];
      let level: GpuTensor;
      if (this.spec.fpnTopDownLevels.includes(i) && prev !== null) {
        if (prev.h * 2 !== x.h || prev.w * 2 !== x.w) {
          throw new Error(`FpnNeck: level ${i + 1} (${prev.h}×${prev.w}) is not half of level ${i} (${x.h}×${x.w})`);
        }
        // Top-down: lateral + nearest 2× of the previous (coarser) level.  [h, w, d]
        const up = nearestUp2(this.gpu, prev.t.reshape(shape(prev.h, prev.w)));
        level = conv.forward(x.t, { residual: up }, this.gpu.empty(shape(x.h, x.w), x.t.dtype, `neck level ${i}`));
        up.release();
        if (this.spec.fuseType === 'avg') {
          const half = unary(this.gpu, 'identity', level, undefined, 0.5);
          level.release();
          level = half;
        }
      } else {
        // Lateral only.  [h, w, d]
        level = conv.forward(x.t, {}, this.gpu.empty(shape(x.h, x.w), x.t.dtype, `neck level ${i}`));
      }
      prev = { t: level, h: x.h, w: x.w, b };
      out[i] = prev;
    }
    if (probe !== noProbe) {
      for (const [i, l] of out.entries()) {
        probe(`neck.fpn.${i}`, l.t.reshape(shape(l.h, l.w)), 'hwc');
        // PEs of the levels nobody consumes are built for the probe only (not cached).
        const cached = this.positions.has(`${l.h}x${l.w}`);
        const pe = cached ? this.position(l.h, l.w) : uploadFloat(this.gpu, this.sineTable(l.h, l.w), [l.h, l.w, this.spec.positionEncoding.numPosFeats], this.act, 'neck sine pe (probe)');
        probe(`neck.pos.${i}`, pe, 'hwc');
        if (!cached) pe.release();
      }
    }
    return out;
  }

  release(): void {
    for (const t of this.positions.values()) t.release();
    this.positions.clear();
  }
}
