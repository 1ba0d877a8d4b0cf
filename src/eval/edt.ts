// Exact Euclidean distance transform with anisotropic spacing: Felzenszwalb & Huttenlocher,
// "Distance Transforms of Sampled Functions", Theory of Computing 8 (2012). The squared distance
// is separable: one 1D lower-envelope-of-parabolas pass per axis, with sample positions scaled by
// that axis's spacing. Used for surface distances (metrics.ts) and click placement (prompts.ts).

/**
 * Squared distance (in spacing units, e.g. mm²) from every voxel to the nearest voxel where
 * `isTarget[v]` is non-zero. Grids are x-fastest with dims [nx, ny, nz] (use nz = 1 for 2D).
 * Voxels with no target anywhere get Infinity.
 */
export function squaredDistanceTransform(isTarget: ArrayLike<number>, dims: readonly number[], spacing: readonly number[]): Float64Array {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  if (isTarget.length !== n) throw new Error(`distance transform: mask has ${isTarget.length} values, dims [${dims.join(', ')}] need ${n}`);
  const d = new Float64Array(n);
  for (let v = 0; v < n; v++) d[v] = isTarget[v] ? 0 : Infinity;
  const maxLen = Math.max(nx, ny, nz);
  const f = new Float64Array(maxLen);
  const out = new Float64Array(maxLen);
  const hullAt = new Int32Array(maxLen);
  const bounds = new Float64Array(maxLen + 1);
  const axes: Array<[len: number, stride: number]> = [
    [nx, 1],
    [ny, nx],
    [nz, nx * ny],
  ];
  // Pass along x over every (y, z) line, then y over every (x, z) line, then z over every (x, y).
  for (let axis = 0; axis < 3; axis++) {
    const [len, stride] = axes[axis];
    if (len === 1) continue; // a singleton axis adds nothing
    const s = spacing[axis];
    forEachLine(dims, axis, (start) => {
      for (let q = 0; q < len; q++) f[q] = d[start + q * stride];
      transform1d(f, len, s, out, hullAt, bounds);
      for (let q = 0; q < len; q++) d[start + q * stride] = out[q];
    });
  }
  return d;
}

function forEachLine(dims: readonly number[], axis: number, visit: (start: number) => void): void {
  const [nx, ny, nz] = dims;
  if (axis === 0) {
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) visit((z * ny + y) * nx);
  } else if (axis === 1) {
    for (let z = 0; z < nz; z++) for (let x = 0; x < nx; x++) visit(z * nx * ny + x);
  } else {
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) visit(y * nx + x);
  }
}

/**
 * 1D squared distance transform of f (first `len` values) with sample spacing s:
 *   out[q] = min_p ((q - p) s)² + f[p]
 * Points with f = Infinity cannot be minima and are left out of the envelope (avoids Inf - Inf).
 */
function transform1d(f: Float64Array, len: number, s: number, out: Float64Array, hullAt: Int32Array, bounds: Float64Array): void {
  let k = -1;
  for (let q = 0; q < len; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      hullAt[0] = q;
      bounds[0] = -Infinity;
      bounds[1] = Infinity;
      continue;
    }
    let x: number;
    for (;;) {
      const p = hullAt[k];
      // Intersection of the parabolas rooted at p and q, in the same units as q·s.
      x = (fq - f[p]) / (2 * s * (q - p)) + (s * (q + p)) / 2;
      if (x <= bounds[k]) k--;
      else break;
    }
    k++;
    hullAt[k] = q;
    bounds[k] = x;
    bounds[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, len);
    return;
  }
  k = 0;
  for (let q = 0; q < len; q++) {
    const xq = q * s;
    while (bounds[k + 1] < xq) k++;
    const p = hullAt[k];
    const dx = (q - p) * s;
    out[q] = dx * dx + f[p];
  }
}
