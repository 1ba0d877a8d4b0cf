// The benchmark's Gpu in Node. Dawn quantizes timestamp-query results to 2^16 ns (65.5 µs) by
// default (its `timestamp_quantization` toggle, a timing-attack guard for browsers), which makes
// short kernels unmeasurable; the benchmark creates its own Dawn instance with that toggle off and
// hands it to the runtime as `navigator.gpu`, the path createDevice() takes in browsers.
import fs from 'node:fs';
import { DAWN_TOGGLES } from '../../src/runtime/device.js';
import { loadTunedCache } from '../../src/kernels/tuning/node-cache.js';
import { Gpu, setTunedCacheLoader, type GpuOptions } from '../../src/runtime/gpu.js';

const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization', `enable-dawn-features=${DAWN_TOGGLES.join(',')}`];
/** Kept for the life of the process: Dawn crashes if its GPU object is collected (ENVIRONMENT.md). */
let dawn: GPU | undefined;

export async function createBenchGpu(opts: GpuOptions = {}): Promise<Gpu> {
  // Same driver choice as src/runtime/device.ts: lavapipe unless a driver is chosen or NVIDIA's is present.
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    const lvp = '/usr/share/vulkan/icd.d/lvp_icd.json';
    const nvidia = ['/usr/share/vulkan/icd.d/nvidia_icd.json', '/etc/vulkan/icd.d/nvidia_icd.json'].some((p) => fs.existsSync(p));
    if (!nvidia && fs.existsSync(lvp)) process.env.VK_ICD_FILENAMES = lvp;
  }
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  dawn = webgpu.create(DAWN_FLAGS) as GPU;
  const existing = (globalThis as { navigator?: object }).navigator ?? {};
  Object.defineProperty(globalThis, 'navigator', { value: { ...existing, gpu: dawn }, configurable: true, writable: true });
  setTunedCacheLoader(loadTunedCache);
  return Gpu.create(opts);
}
