// Fresh, private copies of a recorded launch spec's tensors, so any op family's launch can be
// re-run and timed on its own: every GpuTensor reachable from the spec (through plain objects and
// arrays) is remapped onto new buffers that keep the original offsets and aliasing (an in-place
// residual stays in place), filled with deterministic random values of the tensor's dtype.
// Nothing here knows an op: specs are walked generically.
import { float32ToFloat16Array, float16ToFloat32Array } from '../../src/io/half.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { GpuTensor } from '../../src/runtime/tensor.js';
import { randomValues } from '../lib/tensors.js';

const ALIGN = 256; // minStorageBufferOffsetAlignment upper bound

interface Region {
  /** The new buffer standing in for one original buffer. */
  buffer: GPUBuffer;
  /** Byte offset of the original buffer that maps to 0 in the new one. */
  base: number;
  bytes: number;
  host: Uint8Array;
}

export interface MaterializedSpec<S> {
  spec: S;
  /** Every distinct tensor of the spec (new ones), for comparisons. */
  tensors: GpuTensor[];
  /** Restores every buffer to its initial random contents (queued before later work). */
  reset(): void;
  /** Current values of every float tensor (f16 widened), in `tensors` order (undefined for integer tensors). */
  readFloats(): Promise<Array<Float32Array | undefined>>;
  release(): void;
}

function walk(v: unknown, visit: (t: GpuTensor) => void, seen = new Set<unknown>()): void {
  if (v instanceof GpuTensor) return visit(v);
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (Array.isArray(v)) v.forEach((x) => walk(x, visit, seen));
  else if (Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach((x) => walk(x, visit, seen));
}

function remap(v: unknown, map: (t: GpuTensor) => GpuTensor): unknown {
  if (v instanceof GpuTensor) return map(v);
  if (Array.isArray(v)) return v.map((x) => remap(x, map));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, remap(x, map)]));
  }
  return v;
}

export function materializeSpec<S>(gpu: Gpu, spec: S, seed = 1): MaterializedSpec<S> {
  const originals: GpuTensor[] = [];
  walk(spec, (t) => originals.push(t));
  // One new buffer per original buffer, covering the byte range the spec's tensors use.
  const ranges = new Map<GPUBuffer, { lo: number; hi: number }>();
  for (const t of originals) {
    const r = ranges.get(t.buffer);
    const hi = t.offset + Math.max(4, Math.ceil(t.byteLength / 4) * 4);
    if (r) {
      r.lo = Math.min(r.lo, t.offset);
      r.hi = Math.max(r.hi, hi);
    } else ranges.set(t.buffer, { lo: t.offset, hi });
  }
  const regions = new Map<GPUBuffer, Region>();
  for (const [orig, { lo, hi }] of ranges) {
    const base = Math.floor(lo / ALIGN) * ALIGN;
    const bytes = Math.ceil((hi - base) / 4) * 4;
    const buffer = gpu.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label: 'tune' });
    regions.set(orig, { buffer, base, bytes, host: new Uint8Array(bytes) });
  }
  // Fill each tensor's bytes with values of its dtype (integer tensors stay 0: valid indices).
  let s = seed;
  const fresh = new Map<GpuTensor, GpuTensor>();
  const tensors: GpuTensor[] = [];
  const keyed = new Map<string, GpuTensor>();
  for (const t of originals) {
    if (fresh.has(t)) continue;
    const r = regions.get(t.buffer)!;
    const at = t.offset - r.base;
    const key = `${[...regions.keys()].indexOf(t.buffer)}:${at}:${t.byteLength}:${t.dtype}`;
    let nt = keyed.get(key);
    if (!nt) {
      nt = new GpuTensor(r.buffer, t.shape, t.dtype, at, undefined, t.label);
      keyed.set(key, nt);
      tensors.push(nt);
      if (t.dtype === 'f32') r.host.set(new Uint8Array(randomValues(t.size, s++).buffer), at);
      else if (t.dtype === 'f16') r.host.set(new Uint8Array(float32ToFloat16Array(randomValues(t.size, s++)).buffer), at);
    }
    fresh.set(t, nt);
  }
  const copy = remap(spec, (t) => fresh.get(t)!) as S;
  const reset = () => {
    if (gpu.recorder.hasWork) gpu.flush();
    for (const r of regions.values()) gpu.device.queue.writeBuffer(r.buffer, 0, r.host as Uint8Array<ArrayBuffer>);
  };
  reset();
  return {
    spec: copy,
    tensors,
    reset,
    async readFloats() {
      const out: Array<Float32Array | undefined> = [];
      for (const t of tensors) {
        if (t.dtype === 'f32') out.push(new Float32Array(await gpu.readRaw(t)));
        else if (t.dtype === 'f16') out.push(float16ToFloat32Array(new Uint16Array(await gpu.readRaw(t))));
        else out.push(undefined);
      }
      return out;
    },
    release() {
      for (const r of regions.values()) r.buffer.destroy();
    },
  };
}
