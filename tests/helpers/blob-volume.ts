// A synthetic volume for propagation tests: bright discs that drift sideways from slice to slice
// over uint8 noise, preprocessed by the model like any loaded slice.
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import type { Sam2Model } from '../../src/model/sam2-model.js';
import { randomArray } from './random.js';

export interface BlobVolume {
  numFrames: number;
  width: number;
  height: number;
  /** Disc centres at slice 0; on slice t every centre is shifted by amplitude · sin(t / period) in x. */
  centres: Array<[number, number]>;
  radius: number;
  drift: { amplitude: number; period: number };
  /** Slice t's noise is randomArray(seeded t + seedOffset) in [0, noise) (defaults 1, 20). */
  seedOffset?: number;
  noise?: number;
  /** Grey levels inside and outside the discs before the noise (defaults 200, 60). */
  levels?: [number, number];
}

/** The volume as a SliceSource; `loads` counts the slices it handed out. */
export function blobVolume(model: Sam2Model, v: BlobVolume): SliceSource & { loads: number } {
  const { width: W, height: H, radius, drift } = v;
  const [inside, outside] = v.levels ?? [200, 60];
  const src = {
    numFrames: v.numFrames,
    width: W,
    height: H,
    loads: 0,
    loadImage(t: number) {
      src.loads++;
      const px = new Uint8Array(W * H);
      const noise = randomArray(W * H, t + (v.seedOffset ?? 1), 0, v.noise ?? 20);
      const shift = drift.amplitude * Math.sin(t / drift.period);
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const hit = v.centres.some(([cx, cy]) => Math.hypot(x - cx - shift, y - cy) < radius);
          px[y * W + x] = Math.min(255, (hit ? inside : outside) + noise[y * W + x]);
        }
      return model.preprocess({ pixels: px, width: W, height: H, channels: 1 });
    },
  };
  return src;
}
