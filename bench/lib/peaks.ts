// Vendor-stated peak throughput of common GPUs, matched on the adapter name, for "% of peak" in the
// benchmarks. fp32: dense FP32 on the shader (CUDA / stream) cores, what f32-math kernels can
// reach; f16Matrix: dense FP16 on the matrix units (tensor cores, XMX, WMMA/MFMA) with FP32
// accumulate where stated, what subgroup-matrix kernels can reach. TFLOPS, boost clock, no sparsity.
// Unknown adapters (and software adapters) have no peak: the benchmarks print "-".

export interface PeakEntry {
  match: RegExp;
  name: string;
  fp32: number;
  f16Matrix?: number;
}

// More specific names first (H100 PCIe before H100).
export const PEAKS: readonly PeakEntry[] = [
  { match: /H100.*PCIe/i, name: 'NVIDIA H100 PCIe', fp32: 51.2, f16Matrix: 756 },
  { match: /H100.*NVL/i, name: 'NVIDIA H100 NVL', fp32: 60, f16Matrix: 835 },
  { match: /H100|H800/i, name: 'NVIDIA H100 SXM', fp32: 66.9, f16Matrix: 989 },
  { match: /H200/i, name: 'NVIDIA H200', fp32: 66.9, f16Matrix: 989 },
  { match: /GH200/i, name: 'NVIDIA GH200', fp32: 66.9, f16Matrix: 989 },
  { match: /A100/i, name: 'NVIDIA A100', fp32: 19.5, f16Matrix: 312 },
  { match: /L40S/i, name: 'NVIDIA L40S', fp32: 91.6, f16Matrix: 362 },
  { match: /\bL40\b/i, name: 'NVIDIA L40', fp32: 90.5, f16Matrix: 181 },
  { match: /\bL4\b/i, name: 'NVIDIA L4', fp32: 30.3, f16Matrix: 121 },
  { match: /\bA10G\b/i, name: 'NVIDIA A10G', fp32: 31.2, f16Matrix: 70 },
  { match: /\bA10\b/i, name: 'NVIDIA A10', fp32: 31.2, f16Matrix: 125 },
  { match: /\bT4\b/i, name: 'NVIDIA T4', fp32: 8.1, f16Matrix: 65 },
  { match: /V100/i, name: 'NVIDIA V100', fp32: 15.7, f16Matrix: 125 },
  { match: /RTX 4090/i, name: 'NVIDIA RTX 4090', fp32: 82.6, f16Matrix: 165 },
  { match: /RTX 4080/i, name: 'NVIDIA RTX 4080', fp32: 48.7, f16Matrix: 97 },
  { match: /RTX 3090/i, name: 'NVIDIA RTX 3090', fp32: 35.6, f16Matrix: 71 },
  { match: /RTX 3080/i, name: 'NVIDIA RTX 3080', fp32: 29.8, f16Matrix: 59.5 },
  { match: /MI300X/i, name: 'AMD Instinct MI300X', fp32: 163.4, f16Matrix: 1307 },
  { match: /MI250X/i, name: 'AMD Instinct MI250X', fp32: 47.9, f16Matrix: 383 },
  { match: /7900 XTX/i, name: 'AMD Radeon RX 7900 XTX', fp32: 61.4, f16Matrix: 123 },
  { match: /Arc.*A770/i, name: 'Intel Arc A770', fp32: 19.7, f16Matrix: 138 },
  { match: /Apple M1 Max/i, name: 'Apple M1 Max', fp32: 10.4 },
  { match: /Apple M1 Pro/i, name: 'Apple M1 Pro', fp32: 5.2 },
  { match: /Apple M1/i, name: 'Apple M1', fp32: 2.6 },
  { match: /Apple M2 Max/i, name: 'Apple M2 Max', fp32: 13.6 },
  { match: /Apple M2/i, name: 'Apple M2', fp32: 3.6 },
];

/** The peak entry for an adapter name, if it is a known GPU. */
export function peakFor(adapter: string): PeakEntry | undefined {
  if (/llvmpipe|lavapipe|swiftshader|software/i.test(adapter)) return undefined;
  return PEAKS.find((p) => p.match.test(adapter));
}

/** Percent of the stated peak, using the matrix-unit peak for subgroup-matrix kernels. */
export function percentOfPeak(gflops: number | undefined, adapter: string, usesMatrixUnits = false): number | undefined {
  const p = peakFor(adapter);
  if (!p || gflops === undefined) return undefined;
  const tflops = usesMatrixUnits ? p.f16Matrix : p.fp32;
  return tflops ? (100 * gflops) / (tflops * 1000) : undefined;
}
