// The messages between the page (main.ts, through engine-client.ts) and the engine worker
// (engine-worker.ts). Requests carry an id and get exactly one reply with that id; propagation also
// streams events (one per finished slice) before its reply.
import type { Axis } from '../src/volume/slicing.js';
import type { Vec3 } from '../src/volume/volume.js';
import type { IntensityMapping } from '../src/volume/windowing.js';

export type Direction = 'forward' | 'backward' | 'both';

/** One prompt call: the complete prompt set of one object on one slice (slice pixels). */
export interface PromptCall {
  slice: number;
  objId: number;
  points: Array<[number, number]>;
  /** 1 = positive, 0 = negative, one per point. */
  labels: number[];
  /** [x0, y0, x1, y1] in slice pixels. */
  box?: [number, number, number, number];
}

/** Binary masks (slice resolution, row-major) of some objects on one slice. */
export interface SliceMasks {
  slice: number;
  objIds: number[];
  masks: Uint8Array[];
}

export interface GpuInfo {
  adapterName: string;
  isFallback: boolean;
  features: { f16: boolean; subgroups: boolean; timestamps: boolean };
}

export interface ModelInfo {
  arch: string;
  version: string;
  imageSize: number;
  /** The precision the model runs at (src/model/precision.ts label, e.g. `encoder=int4-g64,act=f16`). */
  precision: string;
  /** GPU bytes of the weights. */
  weightsBytes: number;
}

/** A volume as the page shows it: reoriented to LPS so the three views are true orientations. */
export interface VolumeInfo {
  name: string;
  format: 'nifti' | 'dicom' | 'memory';
  modality?: string;
  /** Voxel grid after reorientation (LPS). */
  dims: Vec3;
  spacing: Vec3;
  /** Axis codes of the file's own voxel grid, e.g. ['L', 'S', 'A']. */
  sourceAxes: [string, string, string];
  data: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
  /** Finite min / max over the volume. */
  min: number;
  max: number;
  /** The MR window (0.5–99.5 % of non-zero voxels), computed once here. */
  percentileMapping: IntensityMapping | null;
  /** True when the intensities look like Hounsfield units (CT). */
  looksLikeCt: boolean;
  warnings: string[];
}

export type Request =
  | { type: 'init' }
  /** `precision`: the text form of src/model/precision.ts (empty: as stored). */
  | { type: 'loadWeights'; name: string; bytes: Uint8Array; precision?: string }
  | { type: 'openVolume'; files: File[]; name: string }
  | { type: 'startSession'; axis: Axis; mapping: IntensityMapping }
  | { type: 'resetSession' }
  | { type: 'prompt'; call: PromptCall }
  /** Forget every prompt, then re-apply `calls` in order (undo). */
  | { type: 'replay'; calls: PromptCall[] }
  | { type: 'propagate'; from: number; direction: Direction }
  | { type: 'cancel' }
  | { type: 'exportMask'; labels: Uint8Array }
  /** After a GPU failure: a new device, the model reloaded on it, the session carried over. */
  | { type: 'recoverGpu' }
  /** Continues the propagation a GPU failure stopped (after recoverGpu), streaming progress. */
  | { type: 'resumePropagation' }
  /** Test hook: make the GPU fail ('lost' destroys the device; 'oom' fails the next allocation). */
  | { type: 'simulateGpuFault'; fault: 'lost' | 'oom' };

export interface ResultOf {
  init: GpuInfo;
  loadWeights: ModelInfo;
  openVolume: VolumeInfo;
  startSession: { numSlices: number; width: number; height: number };
  resetSession: null;
  prompt: SliceMasks;
  replay: SliceMasks[];
  propagate: PropagationSummary;
  cancel: null;
  exportMask: { bytes: Uint8Array; name: string };
  recoverGpu: { adapterName: string; resumable: boolean };
  resumePropagation: PropagationSummary;
  simulateGpuFault: null;
}

/** How a request failed on the GPU: the device is gone, it ran out of memory, or another GPU error. */
export type GpuFailureKind = 'lost' | 'out-of-memory' | 'error';

export interface PropagationSummary {
  done: number;
  total: number;
  seconds: number;
  cancelled: boolean;
}

export interface ProgressEvent {
  type: 'progress';
  requestId: number;
  /** Slices finished so far and in all (over both passes for 'both'). */
  done: number;
  total: number;
  slicesPerSecond: number;
  result: SliceMasks;
}

export type WorkerMessage =
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string; gpu?: GpuFailureKind }
  | ProgressEvent;
