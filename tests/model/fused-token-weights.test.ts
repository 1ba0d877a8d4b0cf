// With f32 weights and activations the mask decoder's token side runs from packed copies of its
// weights (two-way-token-path.ts, layers/token-heads.ts): the per-layer Linear / LayerNorm copies
// of those layers must not reach the GPU as well, not at load and not while decoding. The image
// side of the two-way transformer still runs per layer; with f16 activations or packed weight
// formats nothing is fused and every per-layer weight is uploaded.
import { beforeAll, describe, expect, it } from 'vitest';
import type { SafetensorsFile } from '../../src/io/safetensors.js';
import { makeConfig } from '../../src/model/config.js';
import { Linear } from '../../src/model/layers/linear.js';
import type { ComponentPrecision } from '../../src/model/precision.js';
import { SamHeads } from '../../src/model/sam-heads.js';
import { WeightStore } from '../../src/model/weights.js';
import { getTestGpu } from '../helpers/gpu.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';

const config = makeConfig('micro');
const D = 'sam_mask_decoder';
const T = `${D}.transformer`;

/** Token-side layers that the fused paths pack (a sample of each kind). */
const FUSED = [
  `${T}.layers.0.self_attn.q_proj.weight`,
  `${T}.layers.0.self_attn.out_proj.bias`,
  `${T}.layers.1.cross_attn_token_to_image.q_proj.weight`,
  `${T}.layers.1.cross_attn_image_to_token.k_proj.weight`,
  `${T}.layers.0.mlp.layers.1.weight`,
  `${T}.layers.0.norm1.weight`,
  `${T}.final_attn_token_to_image.out_proj.weight`,
  `${T}.norm_final_attn.bias`,
  `${D}.output_hypernetworks_mlps.0.layers.0.weight`,
  `${D}.output_hypernetworks_mlps.3.layers.2.bias`,
  `${D}.iou_prediction_head.layers.0.weight`,
  `${D}.pred_obj_score_head.layers.2.weight`,
];

/** Image-side layers of the transformer and other decoder weights: on the GPU in every case. */
const PER_LAYER = [
  `${T}.layers.0.cross_attn_token_to_image.k_proj.weight`,
  `${T}.layers.0.cross_attn_token_to_image.v_proj.weight`,
  `${T}.layers.1.cross_attn_image_to_token.q_proj.weight`,
  `${T}.layers.1.cross_attn_image_to_token.out_proj.weight`,
  `${T}.layers.1.norm4.weight`,
  `${T}.final_attn_token_to_image.k_proj.weight`,
  `${T}.final_attn_token_to_image.v_proj.bias`,
  `${D}.output_upscaling.1.weight`,
  'obj_ptr_proj.layers.0.weight',
];

describe('fused decoder token path: no duplicate per-layer weights on the GPU', () => {
  let file: SafetensorsFile;
  beforeAll(() => {
    file = syntheticWeightsFile(config);
  });

  const build = async (precision: ComponentPrecision) => {
    const gpu = await getTestGpu();
    const store = new WeightStore(gpu, file);
    const heads = new SamHeads(gpu, store.scope('', precision), config);
    return { gpu, store, heads };
  };

  it('f32: the fused layers stay off the GPU at load and after a decode; the rest is uploaded', async () => {
    const { gpu, store, heads } = await build({ weights: 'stored', activations: 'f32' });
    try {
      // The fused packs themselves are there (so the fused paths were taken).
      expect(store.isUploaded(`${T}.token_rows_fused.final`)).toBe(true);
      expect(store.isUploaded(`${D}.token_heads_fused`)).toBe(true);
      for (const k of FUSED) expect(store.isUploaded(k), k).toBe(false);
      for (const k of PER_LAYER) expect(store.isUploaded(k), k).toBe(true);

      const f = config.imageEmbeddingSize;
      const c = config.hiddenDim;
      const pix = gpu.upload(new Float32Array(f * f * c).fill(0.1), [f, f, c], 'f32', 'pix');
      const highRes = {
        s0: gpu.upload(new Float32Array(16 * f * f * (c / 8)), [4 * f, 4 * f, c / 8], 'f32', 's0'),
        s1: gpu.upload(new Float32Array(4 * f * f * (c / 4)), [2 * f, 2 * f, c / 4], 'f32', 's1'),
      };
      const out = await heads.forward(pix, highRes, { points: Float32Array.of(100, 120), labels: Int32Array.of(1) });
      expect(Number.isFinite(out.objectScoreLogit)).toBe(true);
      for (const t of [out.lowResMultimasks, out.ious, out.lowResMasks, out.highResMasks, out.objPtr, pix, highRes.s0, highRes.s1]) t.release();
      for (const k of FUSED) expect(store.isUploaded(k), `${k} after a decode`).toBe(false);
    } finally {
      heads.release();
      store.release();
    }
  });

  it('deferUploads: layers upload when the build returns, except those fused elsewhere, which upload on first use', async () => {
    const gpu = await getTestGpu();
    const store = new WeightStore(gpu, file);
    const scope = store.scope(`${D}.iou_prediction_head`);
    try {
      const [kept, fused] = store.deferUploads(() => {
        const layers = [new Linear(gpu, scope.scope('layers.0')), new Linear(gpu, scope.scope('layers.1'))];
        expect(store.isUploaded(`${D}.iou_prediction_head.layers.0.weight`)).toBe(false);
        layers[1].fusedElsewhere();
        return layers;
      });
      expect(store.isUploaded(`${D}.iou_prediction_head.layers.0.weight`)).toBe(true);
      expect(store.isUploaded(`${D}.iou_prediction_head.layers.0.bias`)).toBe(true);
      expect(kept.plainF32).toBe(true);
      expect(store.isUploaded(`${D}.iou_prediction_head.layers.1.weight`)).toBe(false);
      expect(fused.weight.shape).toEqual([fused.outDim, fused.inDim]);
      expect(store.isUploaded(`${D}.iou_prediction_head.layers.1.weight`)).toBe(true);
      // Outside deferUploads a layer uploads at construction, as always.
      new Linear(gpu, scope.scope('layers.2'));
      expect(store.isUploaded(`${D}.iou_prediction_head.layers.2.weight`)).toBe(true);
    } finally {
      store.release();
    }
  });

  for (const [what, precision] of [
    ['f16 activations', { weights: 'stored', activations: 'f16' }],
    ['f16 weight format', { weights: 'f16', activations: 'f32' }],
  ] as const) {
    it(`${what}: nothing fused, every per-layer weight is uploaded at load`, async () => {
      const { store, heads } = await build(precision);
      try {
        expect(store.isUploaded(`${T}.token_rows_fused.final`)).toBe(false);
        expect(store.isUploaded(`${D}.token_heads_fused`)).toBe(false);
        for (const k of [...FUSED, ...PER_LAYER]) expect(store.isUploaded(k), k).toBe(true);
      } finally {
        heads.release();
        store.release();
      }
    });
  }
});
