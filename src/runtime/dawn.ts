// Node only: WebGPU through Dawn (the `webgpu` npm package). The one file of the engine that loads
// the native addon; `useDawn()` registers it as the device provider so that `Gpu.create()` works
// in Node as navigator.gpu does in a browser. Browser bundles never import this file.
import { existsSync } from 'node:fs';
import { DAWN_TOGGLES, setGpuProvider, type GpuProvider } from './device.js';

/** Vulkan driver manifests whose presence means a real NVIDIA driver is installed. */
const NVIDIA_ICDS = [
  '/usr/share/vulkan/icd.d/nvidia_icd.json',
  '/etc/vulkan/icd.d/nvidia_icd.json',
  '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json',
];
const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';

/**
 * Dawn needs a Vulkan driver. On machines without a GPU the Mesa lavapipe ICD is the one that
 * works; point the loader at it unless the caller chose a driver or an NVIDIA driver is present.
 */
export function chooseVulkanDriver(): void {
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return;
  if (!NVIDIA_ICDS.some((p) => existsSync(p)) && existsSync(LAVAPIPE_ICD)) process.env.VK_ICD_FILENAMES = LAVAPIPE_ICD;
}

/**
 * A provider that creates a Dawn `GPU` with the engine's toggles (plus `flags`, Dawn command-line
 * style, e.g. `disable-dawn-features=timestamp_quantization`).
 */
export function dawnProvider(flags: readonly string[] = []): GpuProvider {
  return async () => {
    chooseVulkanDriver();
    const webgpu = await import('webgpu');
    Object.assign(globalThis, webgpu.globals);
    const gpu = webgpu.create([`enable-dawn-features=${DAWN_TOGGLES.join(',')}`, ...flags]) as GPU;
    // The GPU object must outlive the device: Dawn crashes if it is collected.
    return { gpu, keepAlive: gpu };
  };
}

/** Makes Dawn the provider `Gpu.create()` falls back to where there is no navigator.gpu. */
export function useDawn(flags: readonly string[] = []): void {
  setGpuProvider(dawnProvider(flags));
}
