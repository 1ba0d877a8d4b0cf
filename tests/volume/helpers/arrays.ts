// Fast comparisons for large typed arrays (vitest's toEqual walks them element by element through
// its generic equality and takes tens of seconds on a 7-million-voxel volume).

/** Index of the first differing element, or -1 when equal (length mismatch returns the shorter length). */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i] && !(a[i] !== a[i] && b[i] !== b[i])) return i;
  return a.length === b.length ? -1 : n;
}

/** -0 → 0 so matrices compare cleanly with toEqual. */
export function plain(m: number[][]): number[][] {
  return m.map((row) => row.map((x) => x + 0));
}
