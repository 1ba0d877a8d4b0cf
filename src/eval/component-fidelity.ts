// Component outputs of a reduced-precision model against a reference model (f32) on one slice,
// teacher-forced: every component gets the reference's inputs, so each rel-L2 measures that
// component alone, not the drift accumulated upstream.
//   encoder  the preprocessed slice → s0, s1, l2 (rel-L2 over the three together)
//   decoder  reference features + the prompt → the three multimask low-res logits
//   memenc   reference l2 + the reference's high-res mask → memory features
//   memattn  reference l2 + a one-slice bank (the reference memory, its sine PE) → conditioned feature
import type { Component } from '../model/precision.js';
import type { PromptInput } from '../model/sam2-parts.js';
import type { Sam2Model } from '../model/sam2-model.js';
import { releaseSamHeadsOutput } from '../model/sam-heads.js';
import type { GpuTensor } from '../runtime/tensor.js';

/** Host copies of the reference run's inputs and outputs (model-independent, so another Gpu can use them). */
export interface ComponentReference {
  image: { data: Float32Array; shape: number[] };
  prompt: { points?: Float32Array; labels?: Int32Array };
  s0: { data: Float32Array; shape: number[] };
  s1: { data: Float32Array; shape: number[] };
  l2: { data: Float32Array; shape: number[] };
  /** The three multimask low-res logits. */
  masks: Float32Array;
  /** The selected high-res logits [S, S] (the memory encoder's input). */
  highRes: Float32Array;
  memory: { data: Float32Array; shape: number[] };
  pixWithMem: Float32Array;
}

export type ComponentErrors = Record<Component, number>;

/** ||a − b|| / ||b||, over several arrays together. */
export function relL2(pairs: Array<[ArrayLike<number>, ArrayLike<number>]>): number {
  let num = 0;
  let den = 0;
  for (const [a, b] of pairs) {
    if (a.length !== b.length) throw new Error(`relL2: ${a.length} vs ${b.length} values`);
    for (let i = 0; i < b.length; i++) {
      num += (a[i] - b[i]) ** 2;
      den += b[i] ** 2;
    }
  }
  return den === 0 ? (num === 0 ? 0 : Infinity) : Math.sqrt(num / den);
}

interface Outputs {
  s0: Float32Array;
  s1: Float32Array;
  l2: Float32Array;
  masks: Float32Array;
  highRes?: Float32Array;
  memory: Float32Array;
  pixWithMem: Float32Array;
}

async function host(model: Sam2Model, t: GpuTensor): Promise<{ data: Float32Array; shape: number[] }> {
  return { data: await model.gpu.read(t), shape: [...t.shape] };
}

/** Runs the four components of `model`, each on the reference inputs (or, for the reference itself, on its own outputs). */
async function runComponents(model: Sam2Model, ref: Omit<ComponentReference, 'masks' | 'highRes' | 'memory' | 'pixWithMem'> & Partial<ComponentReference>, encode: boolean): Promise<Outputs> {
  const gpu = model.gpu;
  const up = (h: { data: Float32Array; shape: number[] }) => gpu.upload(h.data, h.shape);
  let [s0, s1, l2] = [ref.s0.data, ref.s1.data, ref.l2.data];
  if (encode) {
    const image = up(ref.image);
    const feats = model.encodeImage(image);
    image.release();
    [s0, s1, l2] = [await gpu.read(feats.s0), await gpu.read(feats.s1), await gpu.read(feats.l2)];
    for (const t of [feats.s0, feats.s1, feats.l2]) t.release();
  }

  // Decoder on the reference features.
  const rs0 = up(ref.s0);
  const rs1 = up(ref.s1);
  const rl2 = up(ref.l2);
  const pix = model.addNoMemEmbed(rl2);
  const prompt: PromptInput = { points: ref.prompt.points, labels: ref.prompt.labels };
  const heads = await model.heads.forward(pix, { s0: rs0, s1: rs1 }, prompt, { multimask: true });
  pix.release();
  const masks = await gpu.read(heads.lowResMultimasks);
  const highResOwn = await gpu.read(heads.highResMasks);
  releaseSamHeadsOutput(heads);

  // Memory encoder on the reference feature and the reference's mask.
  const S = model.config.imageSize;
  const hr = gpu.upload(ref.highRes ?? highResOwn, [S, S]);
  const memT = model.encodeMemory(rl2, hr, false, 1);
  hr.release();
  const memory = await gpu.read(memT);

  // Memory attention: a bank holding the reference memory (or this model's own, for the reference).
  const memRef = ref.memory ? up(ref.memory) : memT;
  const out = model.attendMemory(rl2, memRef, model.maskmemPos, 0);
  const pixWithMem = await gpu.read(out);
  for (const t of [out, memT, rs0, rs1, rl2]) t.release();
  if (memRef !== memT) memRef.release();
  return { s0, s1, l2, masks, highRes: highResOwn, memory, pixWithMem };
}

/** Runs the reference model on a preprocessed slice and keeps what the comparison needs. */
export async function captureReference(model: Sam2Model, image: GpuTensor, prompt: PromptInput): Promise<ComponentReference> {
  const img = await host(model, image);
  const feats = model.encodeImage(image);
  const [s0, s1, l2] = [await host(model, feats.s0), await host(model, feats.s1), await host(model, feats.l2)];
  for (const t of [feats.s0, feats.s1, feats.l2]) t.release();
  const p = { points: prompt.points, labels: prompt.labels };
  const o = await runComponents(model, { image: img, prompt: p, s0, s1, l2 }, false);
  const F = model.config.imageEmbeddingSize;
  return {
    image: img, prompt: p, s0, s1, l2,
    masks: o.masks, highRes: o.highRes!,
    memory: { data: o.memory, shape: [F * F, model.config.memDim] },
    pixWithMem: o.pixWithMem,
  };
}

/** Each component's rel-L2 against the reference, teacher-forced. */
export async function compareComponents(model: Sam2Model, ref: ComponentReference): Promise<ComponentErrors> {
  const o = await runComponents(model, ref, true);
  return {
    encoder: relL2([[o.s0, ref.s0.data], [o.s1, ref.s1.data], [o.l2, ref.l2.data]]),
    decoder: relL2([[o.masks, ref.masks]]),
    memenc: relL2([[o.memory, ref.memory.data]]),
    memattn: relL2([[o.pixWithMem, ref.pixWithMem]]),
  };
}
