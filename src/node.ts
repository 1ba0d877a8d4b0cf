/// <reference types="@webgpu/types" preserve="true" />
// `sam2-webgpu/node`: Node-only helpers. WebGPU through Dawn (createGpu here always uses it, with
// optional extra Dawn flags), and file I/O for volumes (NIfTI files, DICOM folders), weights and
// label maps. Never import this from browser code.
import { readFile } from 'node:fs/promises';
import { Gpu, type GpuOptions } from './runtime/gpu.js';
import { dawnProvider, useDawn } from './runtime/dawn.js';
import { Sam2Model } from './model/sam2-model.js';
import type { Sam2Config } from './model/config.js';

useDawn();

/** Options of the Node `createGpu`: the engine's options plus Dawn command-line flags. */
export interface NodeGpuOptions extends GpuOptions {
  /** Extra Dawn flags, e.g. `disable-dawn-features=timestamp_quantization` for fine GPU timings. */
  dawnFlags?: string[];
}

/**
 * Creates the engine's GPU handle on Dawn (the `webgpu` package). Without a GPU, Mesa's lavapipe
 * (software Vulkan) is chosen unless VK_ICD_FILENAMES says otherwise.
 */
export async function createGpu(options: NodeGpuOptions = {}): Promise<Gpu> {
  const { dawnFlags, ...gpuOptions } = options;
  if (gpuOptions.gpu) return Gpu.create(gpuOptions);
  const { gpu, keepAlive } = await dawnProvider(dawnFlags)();
  const created = await Gpu.create({ ...gpuOptions, gpu });
  // Dawn's GPU object must live as long as the device.
  (created.info as { keepAlive?: unknown }).keepAlive = keepAlive;
  return created;
}

/** Reads a weights file (safetensors with the SAM 2 config in its metadata) and loads the model. */
export async function loadModelFile(gpu: Gpu, path: string, config?: Sam2Config): Promise<Sam2Model> {
  const bytes = await readFile(path);
  try {
    return await Sam2Model.load(gpu, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), config);
  } catch (e) {
    throw new Error(`weights ${path}: ${(e as Error).message}`);
  }
}

export { chooseVulkanDriver, dawnProvider, useDawn } from './runtime/dawn.js';
export { readDicomFolder, readNiftiFile, readVolumeFile, writeNiftiFile, writeNiftiLabelsFile } from './volume/node-files.js';
export { readSafetensorsFile } from './io/node-files.js';
