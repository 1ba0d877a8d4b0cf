// Optional 3-D post-processing of MedSAM2's evaluation: keep only the largest connected component
// of each predicted structure. Connectivity is 26 (faces, edges and corners), the default of
// skimage.measure.label for 3-D arrays, which MedSAM2's getLargestCC uses.

import type { VoxelData } from '../volume/volume.js';

/**
 * In `labels`, sets to 0 every voxel of `label` outside the largest 26-connected component of
 * that label. Returns the number of voxels removed.
 */
export function keepLargestComponent(labels: VoxelData, dims: readonly number[], label: number): number {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  if (labels.length !== n) throw new Error(`keepLargestComponent: data has ${labels.length} values, dims [${dims.join(', ')}] need ${n}`);
  // component[v]: 0 = not visited / not the label, else the 1-based component id.
  const component = new Int32Array(n);
  const queue = new Int32Array(n);
  const sizes: number[] = [0];
  for (let start = 0; start < n; start++) {
    if (labels[start] !== label || component[start]) continue;
    const id = sizes.length;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    component[start] = id;
    while (head < tail) {
      const v = queue[head++];
      const x = v % nx;
      const y = Math.floor(v / nx) % ny;
      const z = Math.floor(v / (nx * ny));
      for (let dz = -1; dz <= 1; dz++) {
        const zz = z + dz;
        if (zz < 0 || zz >= nz) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= ny) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= nx) continue;
            const u = xx + nx * (yy + ny * zz);
            if (labels[u] === label && !component[u]) {
              component[u] = id;
              queue[tail++] = u;
            }
          }
        }
      }
    }
    sizes.push(tail);
  }
  if (sizes.length <= 2) return 0;
  let best = 1;
  for (let id = 2; id < sizes.length; id++) if (sizes[id] > sizes[best]) best = id;
  let removed = 0;
  for (let v = 0; v < n; v++) {
    if (component[v] && component[v] !== best) {
      labels[v] = 0;
      removed++;
    }
  }
  return removed;
}
