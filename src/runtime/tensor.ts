// A tensor on the GPU: a buffer region plus shape and element type. No op methods: ops live in
// src/kernels and take tensors as arguments.

/** Element type of a GPU tensor. */
export type DType = 'f32' | 'f16' | 'i32' | 'u32';

export const DTYPE_BYTES: Record<DType, number> = { f32: 4, f16: 2, i32: 4, u32: 4 };

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export interface TensorOwner {
  releaseTensor(t: GpuTensor): void;
}

/** Release state shared by a tensor and its reshaped views (one storage, released once). */
interface StorageState {
  released: boolean;
}

/**
 * A tensor on the GPU: a buffer region with a shape and element type (row-major, channels last).
 * Ops live in the kernels and take tensors as arguments; `release()` returns pooled storage.
 */
export class GpuTensor {
  private readonly state: StorageState;

  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType = 'f32',
    /** Byte offset of element 0 inside `buffer`. */
    readonly offset = 0,
    private readonly owner?: TensorOwner,
    readonly label = '',
    state?: StorageState,
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`GpuTensor ${label}: invalid shape ${shapeStr(shape)}`);
    }
    this.state = state ?? { released: false };
  }

  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }

  /** Size of the elements in bytes. */
  get byteLength(): number {
    return this.size * DTYPE_BYTES[this.dtype];
  }

  /** Whether the storage went back to the pool (the tensor must not be used any more). */
  get isReleased(): boolean {
    return this.state.released;
  }

  /**
   * Same storage seen with another shape of equal element count (no copy). The view shares the
   * storage's lifetime: releasing the view or the original releases the storage, once.
   */
  reshape(shape: readonly number[]): GpuTensor {
    if (numel(shape) !== this.size) {
      throw new Error(`reshape ${this.label}: ${shapeStr(this.shape)} -> ${shapeStr(shape)} changes the element count`);
    }
    return new GpuTensor(this.buffer, shape, this.dtype, this.offset, this.owner, this.label, this.state);
  }

  /** Gives the storage back to its pool (no-op for tensors the pool does not own, e.g. weights' views). */
  release(): void {
    if (this.state.released || !this.owner) return;
    this.state.released = true;
    this.owner.releaseTensor(this);
  }
}
