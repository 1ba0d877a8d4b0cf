// Parity of the image path (preprocessing, Hiera trunk, FPN neck, high-res projections) with the
// official SAM 2 run recorded in every image fixture. Each fixture's config comes from its
// fixture.json, its weights from the stored file or the synthetic formula, and every recorded
// encoder tensor (whole or as crops) is compared once the encoder has run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromOfficial, type Sam2Config } from '../../src/model/config.js';
import { ImageEncoder } from '../../src/model/image-encoder.js';
import { IMAGE_MEAN, IMAGE_STD, ImagePreprocessor } from '../../src/model/preprocess.js';
import type { Probe } from '../../src/model/probe.js';
import { WeightStore } from '../../src/model/weights.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { assertClose } from '../helpers/compare.js';
import { getTestGpu } from '../helpers/gpu.js';
import { chwToHwc, compareToFixture, discoverFixtures, Fixture, hwcToChw, TOL, type FixtureRef } from './fixture.js';
import { fixtureWeights } from './fixture-weights.js';

/** Tensors of the image path the encoder produces (fixture names, crop suffixes stripped). */
const ENCODER_TENSOR = /^(trunk\.(patch_embed|pos_embed|block\d\d|stage\d)|neck\.(fpn|pos)\.\d+|hires\.s[01])$/;
const CROP = /\.crop_(tl|br)$/;

function encoderTensorNames(ref: FixtureRef): string[] {
  const names = new Set(Object.keys(ref.json.tensors).map((k) => k.replace(CROP, '')));
  return [...names].filter((n) => ENCODER_TENSOR.test(n));
}

function isPositional(name: string): boolean {
  return name.startsWith('neck.pos.') || name === 'trunk.pos_embed';
}

/** Fixture layout of a recorded tensor (whole or crop). */
function layoutOf(ref: FixtureRef, name: string): string {
  const info = ref.json.tensors[name] ?? ref.json.tensors[`${name}.crop_tl`];
  if (!info) throw new Error(`${ref.name}: no tensor ${name}`);
  return info.layout;
}

/** The stored weights named by fixture.json, or just this component's weights from the synthetic formula. */
const loadWeights = (ref: FixtureRef, config: Sam2Config) => fixtureWeights(ref, config, (key) => key.startsWith('image_encoder.') || /^sam_mask_decoder\.conv_s[01]\./.test(key));

/**
 * The uint8 slice behind `input.image`: stored as `input.gray_u8`, or recovered from channel 0 of
 * the normalised image (u = round((x·std + mean)·255); the bit-exact comparison of all three
 * channels below then confirms both the recovery and the preprocessing).
 */
function inputSlice(fx: Fixture, size: number): Uint8Array {
  if (fx.has('input.gray_u8')) return Uint8Array.from(fx.f32('input.gray_u8'));
  const image = fx.f32('input.image');
  return Uint8Array.from({ length: size * size }, (_, i) => Math.round((image[i] * IMAGE_STD[0] + IMAGE_MEAN[0]) * 255));
}

const fixtures = discoverFixtures('image');
/** The chunked-execution check re-runs the encoder, so it runs on the smallest model only. */
const smallest = fixtures.reduce<FixtureRef | undefined>((m, f) => (!m || f.json.image_size < m.json.image_size ? f : m), undefined);

for (const ref of fixtures) {
  describe(`image encoder parity: ${ref.name}`, () => {
    const names = encoderTensorNames(ref);
    const got = new Map<string, Float32Array>();
    let fx: Fixture;
    let preprocessed: Float32Array;
    let encoderMs = 0;
    let rerunChunked: (() => Promise<void>) | undefined;
    let cleanup = (): void => {};

    beforeAll(async () => {
      const gpu = await getTestGpu();
      fx = new Fixture(ref);
      const config = configFromOfficial(ref.json.model.config);
      const size = config.imageSize;
      expect(ref.json.image_size).toBe(size);

      // Preprocessing: uint8 slice → [S, S, 3].
      const pre = new ImagePreprocessor(gpu, size);
      const image = pre.run({ pixels: inputSlice(fx, size), width: size, height: size, channels: 1 });
      preprocessed = hwcToChw(await gpu.read(image), size, size, 3);
      image.release();
      pre.release();

      // Encoder, from the fixture's own input so each tensor is tested on its recorded input chain.
      const weights = new WeightStore(gpu, loadWeights(ref, config));
      const encoder = new ImageEncoder(gpu, weights.scope(''), config);
      const hwc = gpu.upload(chwToHwc(fx.f32('input.image'), 3, size, size), [size, size, 3], 'f32', 'input.image');
      const captured = new Map<string, GpuTensor>();
      const probe: Probe = (name, t) => {
        if (names.includes(name) && !captured.has(name)) captured.set(name, gpu.clone(t));
      };
      await gpu.sync();
      const t0 = performance.now();
      const feats = encoder.encode(hwc, probe);
      await gpu.sync();
      encoderMs = performance.now() - t0;
      for (const [name, t] of captured) {
        const data = await gpu.read(t);
        const [h, w, c] = t.shape;
        got.set(name, layoutOf(ref, name).startsWith('NCHW') ? hwcToChw(data, h, w, c) : data);
        t.release();
      }
      const features = { s0: await gpu.read(feats.s0), s1: await gpu.read(feats.s1), l2: await gpu.read(feats.l2) };
      for (const t of [feats.s0, feats.s1, feats.l2]) t.release();
      encoder.release();

      // Same weights and input with a small chunk budget (a fifth of the largest MLP hidden
      // activation), so the qkv and MLP of the larger stages run over several ranges of windows /
      // rows (including windows of padded, q-pooled and chunk-unaligned sizes).
      rerunChunked = async () => {
        const e = config.trunk.embedDim;
        const grid = size / 4;
        const chunkBytes = Math.ceil((grid * grid * 4 * e * 4) / 5);
        const chunked = new ImageEncoder(gpu, weights.scope(''), config, { chunkBytes });
        const f = chunked.encode(hwc);
        for (const key of ['s0', 's1', 'l2'] as const) {
          assertClose(`${ref.name}/chunked ${key}`, await gpu.read(f[key]), features[key], { relL2: 1e-6, atol: 1e-5 });
          f[key].release();
        }
        chunked.release();
      };
      cleanup = () => {
        hwc.release();
        weights.release();
      };
      console.log(`${ref.name}: image encoder ${encoderMs.toFixed(0)} ms (incl. first-use pipeline compiles) on ${gpu.adapterName}`);
    });

    afterAll(() => {
      got.clear();
      cleanup();
    });

    if (ref === smallest) {
      it('chunked execution (small binding budget) gives the same features', async () => {
        if (!rerunChunked) throw new Error('the encoder did not run');
        await rerunChunked();
      });
    }

    it('preprocessing reproduces input.image bit-exactly', () => {
      assertClose(`${ref.name}/input.image`, preprocessed, fx.f32('input.image'), { atol: 0 }, fx.shape('input.image'));
    });

    for (const name of names) {
      it(name, () => {
        const data = got.get(name);
        if (!data) throw new Error(`${ref.name}: the encoder never probed ${name}`);
        const tol = isPositional(name) ? TOL.positional : TOL.encoder;
        const res = compareToFixture(fx, name, data, tol);
        expect(res).not.toBe(false);
        for (const r of res || []) {
          console.log(`${ref.name}/${name}: rel_l2 ${r.relL2.toExponential(2)} max_abs ${r.maxAbs.toExponential(2)} (max_abs_ref ${r.maxAbsRef.toFixed(2)})`);
        }
      });
    }
  });
}

