// The public way to describe a volume to `Sam2Video.create(model, options)`: its slice count and
// size and a function that returns slice t as uint8 pixels. Turned here into the SliceSource the
// feature scheduler pulls from (slice → GPU preprocessing → model input), with checks that name
// the bad value.
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { SliceSource } from './feature-scheduler.js';
import type { SliceImage } from './preprocess.js';
import type { VideoOptions } from './video-predictor.js';

/** What `Sam2Video.create(model, options)` needs to know about the volume, plus the session options. */
export interface VideoCreateOptions extends VideoOptions {
  /** Number of slices (the "frames" of the video). */
  numFrames: number;
  /** Slice width in pixels: prompts are given, and masks returned, in slice pixels. */
  width: number;
  /** Slice height in pixels. */
  height: number;
  /**
   * Slice `t` (0 ≤ t < numFrames) as uint8 pixels, already windowed (e.g. CT W400/L40): either a
   * grey `Uint8Array` of width × height values, row-major, or a {@link SliceImage} (grey or RGB,
   * any size; it is resized to the model's input). Called when the engine needs the slice, at most
   * once per slice and pass; it must return synchronously.
   */
  loadSlice(t: number): Uint8Array | SliceImage;
}

/** What the public form of `Sam2Video.create` needs from a model (`Sam2Model` has it). */
export interface SlicePreprocessor {
  readonly gpu: Gpu;
  /** A uint8 slice → the model input [S, S, 3]. */
  preprocess(slice: SliceImage): GpuTensor;
}

function checkDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`Sam2Video.create: ${name} must be a positive integer, got ${value}`);
}

/** Checks the options and wraps `loadSlice` as the scheduler's SliceSource. */
export function sliceSourceFrom(model: SlicePreprocessor, options: VideoCreateOptions): SliceSource {
  const { numFrames, width, height, loadSlice } = options;
  checkDimension('numFrames', numFrames);
  checkDimension('width', width);
  checkDimension('height', height);
  if (typeof loadSlice !== 'function') throw new Error('Sam2Video.create: loadSlice must be a function (t) => Uint8Array');
  return {
    numFrames,
    width,
    height,
    loadImage(t: number): GpuTensor {
      const slice = loadSlice(t);
      if (slice instanceof Uint8Array) {
        if (slice.length !== width * height) {
          throw new Error(`loadSlice(${t}) returned ${slice.length} bytes; a ${width}×${height} grey slice has ${width * height}`);
        }
        return model.preprocess({ pixels: slice, width, height, channels: 1 });
      }
      if (!slice || !(slice.pixels instanceof Uint8Array)) {
        throw new Error(`loadSlice(${t}) must return a Uint8Array or { pixels: Uint8Array, width, height, channels }`);
      }
      return model.preprocess(slice);
    },
  };
}
