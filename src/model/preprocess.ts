// Model-input preprocessing on the GPU: a uint8 grey or RGB slice of any size → [S, S, 3] float32.
// Upstream: sam2/utils/misc.py (_load_img_as_tensor, load_video_frames: resize to image_size²,
// /255, (x − img_mean) / img_std) and MedSAM2's grey → RGB replication. The resize is bilinear with
// half-pixel centres rounded back to uint8 (src/volume/preprocess-ref.ts is the CPU ground truth);
// normalisation reproduces the loader's two float32 ops bit-exactly via a lookup table.
import { normalizationLut, packBytes, preprocess } from '../kernels/preprocess/preprocess.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';

/** ImageNet statistics used by every SAM 2 frame loader. */
export const IMAGE_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGE_STD: readonly number[] = [0.229, 0.224, 0.225];

/** A uint8 slice image (grey or RGB) of any size, as the model's preprocessing takes it. */
export interface SliceImage {
  /** Row-major uint8 pixels, channels interleaved. */
  pixels: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 = grey (replicated to R, G, B), 3 = RGB. */
  channels: 1 | 3;
}

export class ImagePreprocessor {
  private readonly lut: GpuTensor;

  constructor(
    private readonly gpu: Gpu,
    readonly imageSize: number,
    mean: readonly number[] = IMAGE_MEAN,
    std: readonly number[] = IMAGE_STD,
  ) {
    if (!Number.isInteger(imageSize) || imageSize < 1) throw new Error(`ImagePreprocessor: image size must be a positive integer, got ${imageSize}`);
    this.lut = gpu.upload(normalizationLut(mean, std), [768], 'f32', 'normalization lut');
  }

  /** Uploads a slice and returns the model input [S, S, 3] (the caller releases it). */
  run(img: SliceImage): GpuTensor {
    const { pixels, width, height, channels } = img;
    if (channels !== 1 && channels !== 3) throw new Error(`preprocess: channels must be 1 or 3, got ${channels}`);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new Error(`preprocess: invalid slice size ${width}×${height}`);
    }
    if (pixels.length !== width * height * channels) {
      throw new Error(`preprocess: ${pixels.length} bytes do not make a ${width}×${height}×${channels} slice`);
    }
    const words = packBytes(pixels);
    const src = this.gpu.upload(words, [words.length], 'u32', 'slice u8');
    // [S, S, 3]
    const out = preprocess(this.gpu, src, this.lut, { width, height, channels, outSize: this.imageSize });
    src.release();
    return out;
  }

  release(): void {
    this.lut.release();
  }
}
