// Finiteness checks for loaded numbers: one NaN or Inf weight silently turns every mask empty,
// and one Inf voxel skews a window, so readers count non-finite values and say so.

/** How many values are NaN or ±Inf. */
export function countNonFinite(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is 0 for finite v and NaN for NaN/±Inf: one comparison per value.
    if (v - v !== 0) n++;
  }
  return n;
}

/** Index of the first NaN or ±Inf value, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Throws `make(count, firstIndex)` when `values` holds a NaN or ±Inf. */
export function assertFinite(values: ArrayLike<number>, make: (count: number, first: number) => Error): void {
  const first = firstNonFinite(values);
  if (first >= 0) throw make(countNonFinite(values), first);
}
