// What the kernels are compiled for: the adapter's class (a CPU emulation or a real GPU), vendor,
// optional shader features, subgroup sizes, subgroup-matrix shapes and the limits tiles must fit.
// Kernel variants read this in `supports()` and the heuristics in their op family read it to pick
// a default; nothing else in the engine looks at the adapter.

/** A cooperative subgroup-matrix shape the adapter exposes (Chromium's experimental feature). */
export interface SubgroupMatrixConfig {
  /** Element type of the A and B matrices (e.g. f16). */
  componentType: string;
  /** Element type of the result matrix (e.g. f32). */
  resultComponentType: string;
  /** Rows of the result tile. */
  M: number;
  /** Columns of the result tile. */
  N: number;
  /** Reduction depth of one multiply-accumulate. */
  K: number;
}

/** What the kernels are compiled for; kernel variants and their heuristics read it. */
export interface GpuTarget {
  /**
   * `cpu`: a software adapter (WebGPU fallback adapter, Mesa llvmpipe/lavapipe, SwiftShader) where
   * workgroup memory and barriers are slow and register-blocked kernels win; `gpu` otherwise.
   */
  kind: 'cpu' | 'gpu';
  /** Lower-case vendor: nvidia, amd, intel, apple, qualcomm, arm, mesa, google, ... or 'unknown'. */
  vendor: string;
  /** Human-readable adapter name. */
  adapterName: string;
  /** `shader-f16` enabled on the device. */
  f16: boolean;
  /** `subgroups` enabled on the device. */
  subgroups: boolean;
  /** Subgroup size range the adapter reports (kernels must work for any size in it; never assume 32). */
  subgroupMinSize: number;
  /** Largest subgroup size the adapter may use. */
  subgroupMaxSize: number;
  /** Empty unless `chromium-experimental-subgroup-matrix` is enabled. */
  subgroupMatrix: SubgroupMatrixConfig[];
  /** The limits tiles and workgroups must fit. */
  limits: {
    maxWorkgroupStorageBytes: number;
    maxInvocationsPerWorkgroup: number;
    maxWorkgroupSizeX: number;
    maxWorkgroupSizeY: number;
    maxStorageBufferBindingSize: number;
  };
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i;

const VENDOR_IDS: Record<number, string> = {
  0x10de: 'nvidia',
  0x1002: 'amd',
  0x1022: 'amd',
  0x8086: 'intel',
  0x106b: 'apple',
  0x5143: 'qualcomm',
  0x13b5: 'arm',
  0x10005: 'mesa',
  0x1ae0: 'google',
};

function vendorOf(info: Partial<GPUAdapterInfo> & { vendorID?: number }): string {
  const v = (info.vendor ?? '').toLowerCase();
  if (v) {
    for (const name of Object.values(VENDOR_IDS)) if (v.includes(name)) return name;
    return v.split(/\s+/)[0];
  }
  return (info.vendorID !== undefined && VENDOR_IDS[info.vendorID]) || 'unknown';
}

export interface TargetInputs {
  adapterName: string;
  adapterInfo?: Partial<GPUAdapterInfo> & {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
    subgroupMatrixConfigs?: ReadonlyArray<SubgroupMatrixConfig>;
    vendorID?: number;
  };
  isFallbackAdapter: boolean;
  f16: boolean;
  subgroups: boolean;
  subgroupMatrix: boolean;
  limits: GPUSupportedLimits;
}

export function makeTarget(i: TargetInputs): GpuTarget {
  const info = i.adapterInfo ?? {};
  const kind = i.isFallbackAdapter || SOFTWARE.test(i.adapterName) ? 'cpu' : 'gpu';
  const min = info.subgroupMinSize ?? 0;
  const max = info.subgroupMaxSize ?? 0;
  return {
    kind,
    vendor: vendorOf(info),
    adapterName: i.adapterName,
    f16: i.f16,
    subgroups: i.subgroups && min > 0,
    // Some implementations report 0 before a device exists: fall back to WebGPU's bounds (4..128).
    subgroupMinSize: min || 4,
    subgroupMaxSize: max || 128,
    subgroupMatrix: i.subgroupMatrix ? [...(info.subgroupMatrixConfigs ?? [])].map((c) => ({ ...c })) : [],
    limits: {
      maxWorkgroupStorageBytes: i.limits.maxComputeWorkgroupStorageSize,
      maxInvocationsPerWorkgroup: i.limits.maxComputeInvocationsPerWorkgroup,
      maxWorkgroupSizeX: i.limits.maxComputeWorkgroupSizeX,
      maxWorkgroupSizeY: i.limits.maxComputeWorkgroupSizeY,
      maxStorageBufferBindingSize: i.limits.maxStorageBufferBindingSize,
    },
  };
}

/** A one-line description for logs and benchmark JSON. */
export function describeTarget(t: GpuTarget): string {
  const feats = [t.f16 && 'f16', t.subgroups && `subgroups ${t.subgroupMinSize}-${t.subgroupMaxSize}`, t.subgroupMatrix.length && `subgroup-matrix ×${t.subgroupMatrix.length}`]
    .filter(Boolean)
    .join(', ');
  return `${t.kind} ${t.vendor} (${feats || 'no optional features'})`;
}
