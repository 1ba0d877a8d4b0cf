// One way to get a GPUDevice wherever WebGPU exists: an explicit `GPU` object, else the browser's
// navigator.gpu, else a registered provider (Node: Dawn, registered by src/runtime/dawn.ts, which
// is the only file that imports the `webgpu` addon, so browser bundles never see it). Optional
// features are requested only where the adapter has them.
import { makeTarget, type GpuTarget, type TargetInputs } from './target.js';

type TargetAdapterInfo = NonNullable<TargetInputs['adapterInfo']>;

/** Optional WebGPU features the engine uses when the adapter has them. */
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

/** A created device and what it offers. */
export interface DeviceInfo {
  /** The device the engine records work on. */
  device: GPUDevice;
  /** The adapter the device came from. */
  adapter: GPUAdapter;
  /** Human-readable adapter name ("vendor architecture device (description)"), recorded with every benchmark. */
  adapterName: string;
  /** A software adapter (WebGPU fallback adapter, lavapipe/llvmpipe, SwiftShader). */
  isFallback: boolean;
  /** Optional features enabled on the device. */
  features: GpuFeatures;
  /** The device's limits (raised above the defaults where the adapter allows). */
  limits: GPUSupportedLimits;
  /** What kernels are compiled for (class, vendor, features, subgroup sizes, limits). */
  target: GpuTarget;
  /** Keeps the Node `GPU` object alive as long as the device (Dawn crashes if it is collected). */
  keepAlive?: unknown;
}

/** Options of `createGpu()` / `createDevice()`. */
export interface CreateDeviceOptions {
  /** The WebGPU entry point to use instead of navigator.gpu (e.g. a Dawn instance of your own). */
  gpu?: GPU;
  /** Disable optional features even where available (tests of the fallback paths). */
  disable?: Partial<Record<keyof GpuFeatures, boolean>>;
  /** Adapter preference (default 'high-performance'). */
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

/** Supplies a `GPU` where there is no navigator.gpu (Node); `keepAlive` lives as long as the device. */
export type GpuProvider = () => Promise<{ gpu: GPU; keepAlive?: unknown }>;

let provider: GpuProvider | null = null;

/**
 * Sets the `GPU` source used when navigator.gpu is missing (src/runtime/dawn.ts registers Dawn;
 * `sam2-webgpu` does so under Node). `null` removes it.
 */
export function setGpuProvider(p: GpuProvider | null): void {
  provider = p;
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
  if (opts.gpu) {
    gpu = opts.gpu;
  } else if (typeof navigator !== 'undefined' && (navigator as Navigator & { gpu?: GPU }).gpu) {
    gpu = (navigator as Navigator & { gpu: GPU }).gpu;
  } else if (provider) {
    ({ gpu, keepAlive } = await provider());
  }
  if (!gpu) {
    throw new Error(
      'WebGPU is not available: navigator.gpu is missing (use a browser with WebGPU enabled, ' +
        "e.g. Chromium with --enable-unsafe-webgpu; in Node import createGpu from 'sam2-webgpu' or " +
        "'sam2-webgpu/node', which use Dawn from the `webgpu` package).",
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
