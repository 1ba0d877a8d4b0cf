// One way to get a GPUDevice in Node (Dawn via the `webgpu` package) and in the browser
// (navigator.gpu). Optional features are requested only where the adapter has them.
import { makeTarget, type GpuTarget, type TargetInputs } from './target.js';

type TargetAdapterInfo = NonNullable<TargetInputs['adapterInfo']>;

export interface GpuFeatures {
  /** `shader-f16`: f16 storage and arithmetic in WGSL. */
  f16: boolean;
  /** `subgroups`: subgroup reductions in WGSL. */
  subgroups: boolean;
  /** `timestamp-query`: GPU timestamps for the profiler. */
  timestamps: boolean;
  /** `chromium-experimental-subgroup-matrix`: cooperative matrix ops (Dawn with allow_unsafe_apis). */
  subgroupMatrix: boolean;
}

export interface DeviceInfo {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** Human-readable adapter name ("vendor architecture device (description)"), recorded with every benchmark. */
  adapterName: string;
  isFallback: boolean;
  features: GpuFeatures;
  limits: GPUSupportedLimits;
  /** What kernels are compiled for (class, vendor, features, subgroup sizes, limits). */
  target: GpuTarget;
  /** Keeps the Node `GPU` object alive as long as the device (Dawn crashes if it is collected). */
  keepAlive?: unknown;
}

export interface CreateDeviceOptions {
  /** Disable optional features even where available (tests of the fallback paths). */
  disable?: Partial<Record<keyof GpuFeatures, boolean>>;
  powerPreference?: GPUPowerPreference;
  /** Extra limits to request (clamped to what the adapter supports). */
  limits?: Record<string, number>;
}

const OPTIONAL_FEATURES: Array<[keyof GpuFeatures, GPUFeatureName]> = [
  ['f16', 'shader-f16'],
  ['subgroups', 'subgroups' as GPUFeatureName],
  ['timestamps', 'timestamp-query'],
  ['subgroupMatrix', 'chromium-experimental-subgroup-matrix' as GPUFeatureName],
];

/**
 * Dawn toggles for Node: shader-f16 is stripped on NVIDIA's Vulkan driver unless
 * vulkan_enable_f16_on_nvidia is on, and subgroup-matrix needs allow_unsafe_apis.
 */
export const DAWN_TOGGLES = ['allow_unsafe_apis', 'vulkan_enable_f16_on_nvidia'];

/** Limits worth raising above the WebGPU defaults when the adapter allows it. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
] as const;

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

async function getNodeGpu(): Promise<{ gpu: GPU; keepAlive: unknown }> {
  // Dawn needs a Vulkan driver. On machines without a GPU the Mesa lavapipe ICD is the one that
  // works; point the loader at it unless the caller chose a driver or an NVIDIA driver is present.
  const fs = await import('node:fs');
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    const lvp = '/usr/share/vulkan/icd.d/lvp_icd.json';
    const nvidia = [
      '/usr/share/vulkan/icd.d/nvidia_icd.json',
      '/etc/vulkan/icd.d/nvidia_icd.json',
      '/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json',
    ].some((p) => fs.existsSync(p));
    if (!nvidia && fs.existsSync(lvp)) process.env.VK_ICD_FILENAMES = lvp;
  }
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([`enable-dawn-features=${DAWN_TOGGLES.join(',')}`]) as GPU;
  return { gpu, keepAlive: gpu };
}

export function describeAdapter(adapter: GPUAdapter): string {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const parts = info ? [info.vendor, info.architecture, info.device, info.description].filter((s) => s) : [];
  const name = parts.join(' ').trim();
  return name || 'unknown adapter';
}

/** Creates a device with the optional features this engine can use. Throws a clear error without WebGPU. */
export async function createDevice(opts: CreateDeviceOptions = {}): Promise<DeviceInfo> {
  let gpu: GPU | undefined;
  let keepAlive: unknown;
  if (typeof navigator !== 'undefined' && (navigator as Navigator & { gpu?: GPU }).gpu) {
    gpu = (navigator as Navigator & { gpu: GPU }).gpu;
  } else if (isNode) {
    ({ gpu, keepAlive } = await getNodeGpu());
  }
  if (!gpu) {
    throw new Error(
      'WebGPU is not available: navigator.gpu is missing (use a browser with WebGPU enabled, ' +
        'e.g. Chromium with --enable-unsafe-webgpu, or Node with the `webgpu` package).',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new Error(
      'WebGPU found no adapter. In Node on a machine without a GPU install a Vulkan driver ' +
        '(Mesa lavapipe: mesa-vulkan-drivers from bookworm-backports) or set VK_ICD_FILENAMES.',
    );
  }
  const features: GpuFeatures = { f16: false, subgroups: false, timestamps: false, subgroupMatrix: false };
  const requiredFeatures: GPUFeatureName[] = [];
  for (const [flag, name] of OPTIONAL_FEATURES) {
    if (adapter.features.has(name) && !opts.disable?.[flag]) {
      features[flag] = true;
      requiredFeatures.push(name);
    }
  }
  const requiredLimits: Record<string, number> = {};
  const adapterLimits = adapter.limits as unknown as Record<string, number>;
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapterLimits[name];
  for (const [name, value] of Object.entries(opts.limits ?? {})) {
    requiredLimits[name] = Math.min(value, adapterLimits[name] ?? value);
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const isFallback =
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /llvmpipe|lavapipe|swiftshader/i.test(describeAdapter(adapter));
  const adapterName = describeAdapter(adapter);
  const adapterInfo = ((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo ??
    (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info) as TargetAdapterInfo | undefined;
  const target = makeTarget({
    adapterName,
    adapterInfo,
    isFallbackAdapter: isFallback,
    f16: features.f16,
    subgroups: features.subgroups,
    subgroupMatrix: features.subgroupMatrix,
    limits: device.limits,
  });
  return { device, adapter, adapterName, isFallback, features, limits: device.limits, target, keepAlive };
}
