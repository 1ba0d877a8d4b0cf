// Parity of the SAM heads (prompt encoder, two-way transformer, mask decoder and the
// `_forward_sam_heads` selection) with every image fixture, teacher-forced: the image feature and
// the high-res skips come from the fixture, the prompts from fixture.json `prompts.cases`, and
// both modes run (mm: multimask_output=True, sm: False with the dynamic stability fallback).
// Every recorded `sam.*` tensor is compared; best_index and is_stable must match exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromOfficial, type Sam2Config } from '../../src/model/config.js';
import type { Probe, ProbeLayout } from '../../src/model/probe.js';
import { pointsFromClicks } from '../../src/model/prompts.js';
import { releaseSamHeadsOutput, SamHeads } from '../../src/model/sam-heads.js';
import { geluRef } from '../../src/kernels/elementwise/elementwise.ref.js';
import { WeightStore } from '../../src/model/weights.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { assertClose, type CompareResult, type Tolerance } from '../helpers/compare.js';
import { getTestGpu } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';
import { chwToHwc, compareToFixture, discoverFixtures, Fixture, hwcToChw, TOL, type FixtureRef } from './fixture.js';
import { fixtureWeights } from './fixture-weights.js';

const CROP = /\.crop_(tl|br)$/;
/** Fixture tensors that are inputs of the heads (fed in, not produced). */
const INPUTS = new Set(['sam.pix_feat_with_mem']);
const MODES = ['mm', 'sm'] as const;

interface PromptCase {
  name: string;
  points: [number, number][];
  labels: number[];
  box: [number, number, number, number] | null;
}

/** Every recorded `sam.*` tensor of the fixture (crop suffixes stripped). */
function samTensorNames(ref: FixtureRef): string[] {
  const names = new Set(Object.keys(ref.json.tensors).map((k) => k.replace(CROP, '')));
  return [...names].filter((n) => n.startsWith('sam.') && !INPUTS.has(n));
}

function tolerance(name: string): Tolerance {
  if (/(masks_all|low_res_multimasks|low_res_masks|high_res_masks)$/.test(name)) return TOL.maskLogits;
  if (/(prompt\.sparse|prompt\.dense(_1x1)?|image_pe)$/.test(name)) return TOL.positional;
  return TOL.smallHeads;
}

/** The stored weights named by fixture.json, or just this component's weights from the synthetic formula. */
const loadWeights = (ref: FixtureRef, config: Sam2Config) => fixtureWeights(ref, config, (key) => /^(sam_prompt_encoder|sam_mask_decoder|obj_ptr_proj)\.|^no_(obj_ptr|mem_embed)$/.test(key));

/** A fixture NCHW map [1, C, H, W] as channel-last host data. */
function fixtureHwc(fx: Fixture, name: string): { data: Float32Array; shape: [number, number, number] } {
  const [, c, h, w] = fx.shape(name);
  return { data: chwToHwc(fx.f32(name), c, h, w), shape: [h, w, c] };
}

/** The decoder's image input: the recorded `pix_feat_with_mem`, or level 2 + no_mem_embed (float32 add). */
function pixFeature(fx: Fixture, weights: WeightStore): { data: Float32Array; shape: [number, number, number] } {
  if (fx.has('sam.pix_feat_with_mem')) return fixtureHwc(fx, 'sam.pix_feat_with_mem');
  const l2 = fixtureHwc(fx, 'neck.fpn.2');
  const emb = weights.host('no_mem_embed');
  const c = l2.shape[2];
  const data = new Float32Array(l2.data.length);
  for (let i = 0; i < data.length; i++) data[i] = l2.data[i] + emb[i % c];
  return { data, shape: l2.shape };
}

/** Engine tensor → the fixture's layout (NCHW maps from channel-last probes). */
function toFixtureLayout(ref: FixtureRef, fixtureName: string, data: Float32Array, layout: ProbeLayout): Float32Array {
  const info = ref.json.tensors[fixtureName] ?? ref.json.tensors[`${fixtureName}.crop_tl`];
  if (!info || !info.layout.startsWith('NCHW') || layout === 'flat') return data;
  const shape = ref.json.tensors[fixtureName]?.shape ?? null;
  const c = shape ? shape[1] : ref.json.tensors[`${fixtureName}.crop_tl`].shape[1];
  const hw = data.length / c;
  const h = shape ? shape[2] : Math.round(Math.sqrt(hw));
  return hwcToChw(data, h, hw / h, c);
}

for (const ref of discoverFixtures('image')) {
  describe(`SAM heads parity: ${ref.name}`, () => {
    const names = samTensorNames(ref);
    const cases = ref.json.prompts.cases as PromptCase[];
    /** fixture tensor name → what the engine produced, in the fixture's layout. */
    const got = new Map<string, Float32Array>();
    const decodeMs: number[] = [];
    let fx: Fixture;

    beforeAll(async () => {
      const gpu: Gpu = await getTestGpu();
      fx = new Fixture(ref);
      const config = configFromOfficial(ref.json.model.config);
      expect(config.imageSize).toBe(ref.json.image_size);
      const weights = new WeightStore(gpu, loadWeights(ref, config));
      const heads = new SamHeads(gpu, weights.scope(''), config);

      const pix = pixFeature(fx, weights);
      const s0 = fixtureHwc(fx, 'hires.s0');
      const s1 = fixtureHwc(fx, 'hires.s1');
      const pixT = gpu.upload(pix.data, pix.shape, 'f32', 'pix');
      const highRes = { s0: gpu.upload(s0.data, s0.shape, 'f32', 's0'), s1: gpu.upload(s1.data, s1.shape, 'f32', 's1') };

      for (const pc of cases) {
        const prompt = pointsFromClicks({ points: pc.points.length ? pc.points : undefined, labels: pc.points.length ? pc.labels : undefined, box: pc.box ?? undefined });
        got.set(`sam.${pc.name}.point_coords`, prompt.points);
        got.set(`sam.${pc.name}.point_labels`, Float32Array.from(prompt.labels));
        for (const mode of MODES) {
          // Probed name → fixture name: per-case first, then shared (`sam.image_pe`, `sam.prompt.dense`).
          const captured: { name: string; t: GpuTensor; layout: ProbeLayout }[] = [];
          const probe: Probe = (name, t, layout) => {
            const perCase = `sam.${pc.name}.${name}`;
            const known = (n: string) => ref.json.tensors[n] || ref.json.tensors[`${n}.crop_tl`] || ref.json.tensors[`${n}_1x1`];
            const full = known(perCase) ? perCase : known(`sam.${name}`) ? `sam.${name}` : perCase;
            if (!got.has(full) && !captured.some((x) => x.name === full)) captured.push({ name: full, t: gpu.clone(t), layout });
          };
          const out = await heads.forward(pixT, highRes, prompt, { multimask: mode === 'mm' }, probe);
          expect(out.multimask).toBe(mode === 'mm');
          for (const { name, t, layout } of captured) {
            got.set(name, toFixtureLayout(ref, name, await gpu.read(t), layout));
            t.release();
          }
          if (mode === 'mm') got.set(`sam.${pc.name}.mm.best_index`, Float32Array.of(out.bestIndex));
          if (out.stabilityScore !== undefined) {
            got.set(`sam.${pc.name}.${mode}.stability_score`, Float32Array.of(out.stabilityScore));
            got.set(`sam.${pc.name}.${mode}.is_stable`, Float32Array.of(out.isStable ? 1 : 0));
          }
          releaseSamHeadsOutput(out);
        }
      }

      // Decode time without probes (pipelines compiled by now): one click, official multimask rule.
      const first = cases[0];
      const prompt = pointsFromClicks({ points: first.points.length ? first.points : undefined, labels: first.points.length ? first.labels : undefined, box: first.box ?? undefined });
      for (let i = 0; i < 3; i++) {
        await gpu.sync();
        const t0 = performance.now();
        const out = await heads.forward(pixT, highRes, prompt);
        await gpu.sync();
        decodeMs.push(performance.now() - t0);
        releaseSamHeadsOutput(out);
      }
      console.log(`${ref.name}: SAM heads decode ${decodeMs.map((m) => m.toFixed(1)).join(' / ')} ms on ${gpu.adapterName}`);

      for (const t of [pixT, highRes.s0, highRes.s1]) t.release();
      heads.release();
      weights.release();
    });

    afterAll(() => got.clear());

    for (const name of names) {
      it(name, () => {
        const info = ref.json.tensors[name] ?? ref.json.tensors[`${name}.crop_tl`];
        // `X_1x1` = the value of a map that is constant over the grid (tiny's no-mask dense prompt):
        // compare the engine's value at pixel (0, 0).
        const base = name.endsWith('_1x1') ? name.slice(0, -4) : name;
        let data = got.get(base);
        if (!data) throw new Error(`${ref.name}: the SAM heads produced nothing for ${name}`);
        if (base !== name) data = data.subarray(0, info.shape[1]);
        if (info?.dtype === 'I32') {
          // Decisions (best_index, is_stable) and labels: exact.
          expect(Array.from(data), name).toEqual(Array.from(fx.i32(name)));
          return;
        }
        if (name.endsWith('point_coords')) {
          assertClose(`${ref.name}/${name}`, data, fx.f32(name), { atol: 0 }, fx.shape(name));
          return;
        }
        const n = info ? info.shape.reduce((a, b) => a * b, 1) : 0;
        if (info && data.length === info.shape[1] && n > data.length && /prompt\.dense$/.test(name)) {
          // The no-mask dense prompt is `no_mask_embed` expanded over the grid (upstream `expand`s a
          // view too): broadcast the engine's [C] vector to the recorded [1, C, H, W].
          const [, c, h, w] = info.shape;
          const full = new Float32Array(n);
          for (let k = 0; k < c; k++) full.fill(data[k], k * h * w, (k + 1) * h * w);
          data = full;
        }
        const res: CompareResult[] | false = compareToFixture(fx, name, data, tolerance(name));
        if (res === false) throw new Error(`${ref.name}: fixture has no ${name}`);
        const fmt = (r: CompareResult) => `rel_l2=${r.relL2.toExponential(2)} max_abs=${r.maxAbs.toExponential(2)} (ref ${r.maxAbsRef.toPrecision(3)})`;
        console.log(`${ref.name}/${name}: ${res.map(fmt).join('; ')}`);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The mask-prompt path (correction clicks feed the previous logits; mask-prompted frames feed
// `mask_downsample(mask)`) is not in the image fixtures: check `mask_downscaling` against a
// float64 CPU port of the upstream Sequential, with the smallest fixture model's weights.

/** NHWC conv2d, PyTorch weights [Cout, Cin, k, k], stride = k, no padding; float64. */
function patchConvRef(x: Float64Array, h: number, w: number, cin: number, wt: Float32Array, b: Float32Array, cout: number, k: number): Float64Array {
  const oh = h / k;
  const ow = w / k;
  const out = new Float64Array(oh * ow * cout);
  for (let y = 0; y < oh; y++)
    for (let xx = 0; xx < ow; xx++)
      for (let o = 0; o < cout; o++) {
        let acc = b[o];
        for (let c = 0; c < cin; c++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) acc += wt[((o * cin + c) * k + ky) * k + kx] * x[((y * k + ky) * w + xx * k + kx) * cin + c];
        out[(y * ow + xx) * cout + o] = acc;
      }
  return out;
}

/** LayerNorm over the last dim (biased variance) then GELU; float64. */
function lnGeluRef(x: Float64Array, c: number, g: Float32Array, b: Float32Array, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let p = 0; p < x.length / c; p++) {
    let mean = 0;
    for (let k = 0; k < c; k++) mean += x[p * c + k];
    mean /= c;
    let v = 0;
    for (let k = 0; k < c; k++) v += (x[p * c + k] - mean) ** 2;
    v /= c;
    for (let k = 0; k < c; k++) out[p * c + k] = geluRef(((x[p * c + k] - mean) / Math.sqrt(v + eps)) * g[k] + b[k]);
  }
  return out;
}

const smallest = discoverFixtures('image').sort((a, b) => a.json.image_size - b.json.image_size)[0];
if (smallest) {
  describe(`SAM heads mask prompt: ${smallest.name}`, () => {
    it('mask_downscaling matches a float64 reference; a mask-prompted decode runs', async () => {
      const gpu = await getTestGpu();
      const config = configFromOfficial(smallest.json.model.config);
      const weights = new WeightStore(gpu, loadWeights(smallest, config));
      const heads = new SamHeads(gpu, weights.scope(''), config);
      const m = 4 * config.imageEmbeddingSize;
      const f = config.imageEmbeddingSize;
      const mask = randomArray(m * m, 4242, -32, 32);
      const maskT = gpu.upload(mask, [m, m], 'f32', 'mask-prompt');
      const dense = heads.promptEncoder.embedMask(maskT);
      expect(dense.shape).toEqual([f, f, config.hiddenDim]);

      const w = (k: string) => weights.host(`sam_prompt_encoder.mask_downscaling.${k}`);
      const c1 = weights.shape('sam_prompt_encoder.mask_downscaling.0.weight')[0];
      const c2 = weights.shape('sam_prompt_encoder.mask_downscaling.3.weight')[0];
      let x = patchConvRef(Float64Array.from(mask), m, m, 1, w('0.weight'), w('0.bias'), c1, 2);
      x = lnGeluRef(x, c1, w('1.weight'), w('1.bias'), 1e-6);
      x = patchConvRef(x, m / 2, m / 2, c1, w('3.weight'), w('3.bias'), c2, 2);
      x = lnGeluRef(x, c2, w('4.weight'), w('4.bias'), 1e-6);
      const ref = patchConvRef(x, f, f, c2, w('6.weight'), w('6.bias'), config.hiddenDim, 1);
      const r = assertClose('mask_downscaling', await gpu.read(dense), ref, { relL2: 2e-5, maxAbsRel: 1e-4 }, [f, f, config.hiddenDim]);
      console.log(`${smallest.name}: mask_downscaling rel_l2=${r.relL2.toExponential(2)} max_abs=${r.maxAbs.toExponential(2)}`);
      dense.release();

      // A full decode with the mask prompt: runs, probes a [F, F, C] dense map, finite outputs.
      const fx = new Fixture(smallest);
      const pix = pixFeature(fx, weights);
      const s0 = fixtureHwc(fx, 'hires.s0');
      const s1 = fixtureHwc(fx, 'hires.s1');
      const pixT = gpu.upload(pix.data, pix.shape);
      const highRes = { s0: gpu.upload(s0.data, s0.shape), s1: gpu.upload(s1.data, s1.shape) };
      let denseShape: readonly number[] = [];
      const out = await heads.forward(pixT, highRes, { maskInput: maskT }, {}, (name, t) => {
        if (name === 'prompt.dense') denseShape = t.shape;
      });
      expect(denseShape).toEqual([f, f, config.hiddenDim]);
      expect(out.multimask).toBe(true); // no points: a tracked-frame style decode
      const low = await gpu.read(out.lowResMasks);
      expect(low.every(Number.isFinite)).toBe(true);
      releaseSamHeadsOutput(out);
      for (const t of [maskT, pixT, highRes.s0, highRes.s1]) t.release();
      heads.release();
      weights.release();
    });
  });
}
