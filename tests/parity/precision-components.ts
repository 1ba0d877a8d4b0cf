// Teacher-forced component outputs of a model at some precision on an image fixture, as rel-L2
// against the fixture's float32 reference tensors (the official implementation's):
//   encoder  input.image → hires.s0, hires.s1, neck.fpn.2 (the worst of the three)
//   decoder  fixture features + every prompt case → low-res mask logits (multimask), worst case
//   memenc   neck.fpn.2 + case-1 mask logits → memenc.sig.maskmem_features
//   memattn  each recorded bank → memattn.<bank>.pix_feat_with_mem, worst bank
import { bilinearResize } from '../../src/model/mask-postprocess.js';
import type { Component } from '../../src/model/precision.js';
import { pointsFromClicks } from '../../src/model/prompts.js';
import type { Sam2Model } from '../../src/model/sam2-model.js';
import { releaseSamHeadsOutput } from '../../src/model/sam-heads.js';
import { sinePositionEncodingF32 } from '../../src/kernels/position/position-f32.js';
import { Sam2Video } from '../../src/model/video-predictor.js';
import { compareArrays } from '../helpers/compare.js';
import { chwToHwc, hwcToChw, type Fixture } from './fixture.js';

function relL2(got: Float32Array, want: Float32Array): number {
  return compareArrays(got, want, {}).relL2;
}

/** Fixture NCHW [1, C, H, W] → channel-last data and shape. */
function hwc(fx: Fixture, name: string): { data: Float32Array; shape: [number, number, number] } {
  const [, c, h, w] = fx.shape(name);
  return { data: chwToHwc(fx.f32(name), c, h, w), shape: [h, w, c] };
}

export async function componentRelL2(fx: Fixture, model: Sam2Model): Promise<Record<Component, number>> {
  const gpu = model.gpu;
  const cfg = model.config;
  const S = cfg.imageSize;
  const F = cfg.imageEmbeddingSize;
  const C = cfg.hiddenDim;
  const read = (t: Parameters<typeof gpu.read>[0]) => gpu.read(t);

  // Encoder: the fixture's preprocessed image (channel-first) in.
  const image = gpu.upload(chwToHwc(fx.f32('input.image'), 3, S, S), [S, S, 3]);
  const feats = model.encodeImage(image);
  image.release();
  const enc = Math.max(
    relL2(hwcToChw(await read(feats.s0), 4 * F, 4 * F, C / 8), fx.f32('hires.s0')),
    relL2(hwcToChw(await read(feats.s1), 2 * F, 2 * F, C / 4), fx.f32('hires.s1')),
    relL2(hwcToChw(await read(feats.l2), F, F, C), fx.f32('neck.fpn.2')),
  );
  for (const t of [feats.s0, feats.s1, feats.l2]) t.release();

  // Decoder: fixture features (level 2 + no_mem_embed, high-res skips) and every prompt case.
  const l2 = hwc(fx, 'neck.fpn.2');
  const noMem = model.weights.host('no_mem_embed');
  const pixData = fx.has('sam.pix_feat_with_mem') ? hwc(fx, 'sam.pix_feat_with_mem').data : Float32Array.from(l2.data, (v, i) => Math.fround(v + noMem[i % C]));
  const pix = gpu.upload(pixData, [F, F, C]);
  const s0 = hwc(fx, 'hires.s0');
  const s1 = hwc(fx, 'hires.s1');
  const highRes = { s0: gpu.upload(s0.data, s0.shape), s1: gpu.upload(s1.data, s1.shape) };
  let dec = 0;
  for (const pc of fx.json.prompts.cases as Array<{ name: string; points: [number, number][]; labels: number[]; box: [number, number, number, number] | null }>) {
    const prompt = pointsFromClicks({ points: pc.points.length ? pc.points : undefined, labels: pc.points.length ? pc.labels : undefined, box: pc.box ?? undefined });
    const out = await model.heads.forward(pix, highRes, prompt, { multimask: true });
    dec = Math.max(dec, relL2(await read(out.lowResMultimasks), fx.f32(`sam.${pc.name}.mm.low_res_multimasks`)));
    releaseSamHeadsOutput(out);
  }
  for (const t of [pix, highRes.s0, highRes.s1]) t.release();

  // Memory encoder: the raw level-2 feature and case 1's high-res logits (sigmoid path).
  const pixFeat = gpu.upload(l2.data, l2.shape);
  const logits = fx.has('sam.case1.mm.high_res_masks')
    ? fx.f32('sam.case1.mm.high_res_masks')
    : bilinearResize(fx.f32('sam.case1.mm.low_res_masks'), 4 * F, 4 * F, S, S);
  const hr = gpu.upload(logits, [S, S]);
  const mem = model.memoryEncoder.forward({ pixFeat, highResMasks: hr, binarize: false, objectScoreLogit: 1 });
  const memenc = relL2(hwcToChw(await read(mem), F, F, cfg.memDim), fx.f32('memenc.sig.maskmem_features'));
  for (const t of [hr, mem]) t.release();

  // Memory attention: every recorded bank.
  const pe = cfg.neck.positionEncoding;
  const currPos = gpu.upload(sinePositionEncodingF32(F, F, pe.numPosFeats, pe.temperature, pe.scale ?? 2 * Math.PI), [F * F, C]);
  let memattn = 0;
  for (const bank of Object.keys(fx.json.memattn_banks ?? {})) {
    const p = `memattn.${bank}`;
    const m = fx.f32(`${p}.memory`);
    const rows = m.length / cfg.memDim;
    const memory = gpu.upload(m, [rows, cfg.memDim]);
    const memoryPos = gpu.upload(fx.f32(`${p}.memory_pos`), [rows, cfg.memDim]);
    const out = model.memoryAttention.forward(pixFeat.reshape([F * F, C]), currPos, memory, memoryPos, fx.i32(`${p}.num_obj_ptr_tokens`)[0]);
    memattn = Math.max(memattn, relL2(hwcToChw(await read(out), F, F, C), fx.f32(`${p}.pix_feat_with_mem`)));
    for (const t of [memory, memoryPos, out]) t.release();
  }
  for (const t of [pixFeat, currPos]) t.release();
  return { encoder: enc, decoder: dec, memenc, memattn };
}


/** IoU of two masks given as logits (foreground = logit > 0); 1 when both are empty. */
export function logitIoU(a: Float32Array, b: Float32Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > 0;
    const y = b[i] > 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/**
 * Free-running propagation of a video fixture (both passes, every prompted object, the fixture's
 * normalized frames or u8 slices) with `model`; returns the worst per-slice, per-object IoU of the
 * video-resolution masks against the fixture's `<pass>.video_res_masks`.
 */
export async function propagateIoU(fx: Fixture, model: Sam2Model): Promise<number> {
  const S = fx.json.image_size;
  const T = fx.json.input.num_frames as number;
  const frames = fx.has('video.frames_input') ? fx.f32('video.frames_input') : null;
  const u8 = frames ? null : fx.f32('video.frames_u8');
  const source = {
    numFrames: T,
    height: fx.json.input.video_height as number,
    width: fx.json.input.video_width as number,
    loadImage(t: number) {
      if (frames) return model.gpu.upload(chwToHwc(frames.subarray(t * 3 * S * S, (t + 1) * 3 * S * S), 3, S, S), [S, S, 3]);
      return model.preprocess({ pixels: Uint8Array.from(u8!.subarray(t * S * S, (t + 1) * S * S)), width: S, height: S, channels: 1 });
    },
  };
  const prompts = fx.json.prompts as { frame_idx: number; objects: Array<{ obj_id: number; points: number[][] | null; labels: number[] | null; box: number[] | null }> };
  let worst = 1;
  for (const pass of Object.keys(fx.json.passes ?? {})) {
    const video = Sam2Video.create(model.gpu, model, model.root, source);
    for (const p of prompts.objects) {
      if (p.box) await video.addBox(prompts.frame_idx, p.obj_id, p.box as [number, number, number, number], (p.points ?? []) as [number, number][], p.labels ?? []);
      else await video.addPoints(prompts.frame_idx, p.obj_id, p.points as [number, number][], p.labels!);
    }
    const want = fx.f32(`${pass}.video_res_masks`);
    const n = fx.i32(`${pass}.frame_idx`).length;
    const per = want.length / n;
    let r = 0;
    for await (const res of video.propagate({ direction: pass === 'rev' ? 'backward' : 'forward', logits: true })) {
      const row = want.subarray(r * per, (r + 1) * per);
      const k = res.objIds.length;
      res.logits!.forEach((l, j) => {
        worst = Math.min(worst, logitIoU(l, row.subarray((j * per) / k, ((j + 1) * per) / k)));
      });
      r++;
    }
    video.dispose();
  }
  return worst;
}
