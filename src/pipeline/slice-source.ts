// The prepared volume as the video predictor's SliceSource: slice t is windowed to uint8 on the
// host and preprocessed on the GPU (resize to the model size, ImageNet normalisation) only when
// the feature scheduler asks for it, so a whole volume never sits on the GPU at once.

import type { SliceSource } from '../model/feature-scheduler.js';
import type { SliceImage } from '../model/preprocess.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { PreparedVolume } from './prepare-volume.js';

export interface Preprocessor {
  preprocess(slice: SliceImage): GpuTensor;
}

export function volumeSliceSource(prepared: PreparedVolume, model: Preprocessor): SliceSource {
  const { width, height, count } = prepared;
  return {
    numFrames: count,
    width,
    height,
    loadImage: (t) => model.preprocess({ pixels: prepared.slice(t), width, height, channels: 1 }),
  };
}
