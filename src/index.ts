/// <reference types="@webgpu/types" preserve="true" />
// The package's main entry (`sam2-webgpu`): SAM 2 on WebGPU for volumes. Browser-safe: nothing
// here imports a Node module. Under Node the package's "node" export condition loads index-node.ts
// instead, which adds Dawn as the WebGPU provider and re-exports this file.
//
//   const gpu = await createGpu();
//   const model = await Sam2Model.load(gpu, weightsBytes);
//   const video = Sam2Video.create(model, { numFrames, width, height, loadSlice });
import { Gpu, type GpuOptions } from './runtime/gpu.js';

/**
 * Creates the engine's handle on a GPU (device, buffer pool, pipeline cache, command recorder).
 * In a browser it uses navigator.gpu; under Node, `sam2-webgpu` resolves to a build that uses
 * Dawn (the `webgpu` package) and picks Mesa lavapipe when the machine has no GPU. Throws an error
 * that says what to install or enable when WebGPU or an adapter is missing.
 */
export function createGpu(options: GpuOptions = {}): Promise<Gpu> {
  return Gpu.create(options);
}

export { Gpu, type GpuOptions, type HostArray } from './runtime/gpu.js';
export { setGpuProvider, type CreateDeviceOptions, type DeviceInfo, type GpuFeatures, type GpuProvider } from './runtime/device.js';
export type { GpuTarget, SubgroupMatrixConfig } from './runtime/target.js';
export { GpuTensor, type DType } from './runtime/tensor.js';
export { Sam2Model } from './model/sam2-model.js';
export { Sam2Video, type Direction, type PropagateOptions, type SliceResult, type VideoOptions } from './model/video-predictor.js';
export type { VideoCreateOptions } from './model/video-source.js';
export type { SliceImage } from './model/preprocess.js';
export {
  configFromMetadata,
  makeConfig,
  PRESET_NAMES,
  Sam2ConfigError,
  type MakeConfigOptions,
  type PresetName,
  type Sam2Config,
} from './model/config.js';
export { parseSafetensors, SafetensorsError, SafetensorsFile, type SafetensorsMetadata } from './io/safetensors.js';
