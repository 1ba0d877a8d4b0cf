// Host-side parts of the pipeline (no GPU): propagation length, largest component, argument
// parsing of object groups, the progress display, and the reorientation round trip that puts
// masks back on the source grid.
import { describe, expect, it } from 'vitest';
import { extractObjectArgs, parsePoint } from '../../src/cli/segment.js';
import { formatDuration, ProgressBar } from '../../src/cli/progress.js';
import { parsePromptMode, checkStructuresPresent } from '../../src/pipeline/evaluate-volume.js';
import { keepLargestComponent } from '../../src/pipeline/largest-component.js';
import { defaultWindow, orientLike, prepareVolume, toSourceLabels } from '../../src/pipeline/prepare-volume.js';
import { propagationLength } from '../../src/pipeline/segment-volume.js';
import { readNifti } from '../../src/volume/nifti.js';
import { sliceShape, sliceToVoxel } from '../../src/volume/slicing.js';
import { createVolume, voxelToWorld, type Mat4 } from '../../src/volume/volume.js';
import { rng } from '../helpers/random.js';
import { DATA, dataFile } from '../volume/helpers/data-files.js';

/** n integers uniform in [lo, hi). */
function randomInts(n: number, lo: number, hi: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo)));
}

describe('propagationLength', () => {
  // Reference: the processing order of sam2_video_predictor.propagate_in_video, enumerated.
  function enumerate(n: number, start: number, direction: 'forward' | 'backward' | 'both', max = n): number {
    const seen: number[] = [];
    if (direction !== 'backward') for (let t = start; t <= Math.min(start + max, n - 1); t++) seen.push(t);
    if (direction !== 'forward' && start > 0) {
      const order: number[] = [];
      for (let t = start; t >= Math.max(start - max, 0); t--) order.push(t);
      seen.push(...(direction === 'both' ? order.slice(1) : order));
    }
    return seen.length;
  }

  it('matches the enumerated processing order for every start, direction and limit', () => {
    for (const n of [1, 2, 7, 62]) {
      for (let start = 0; start < n; start++) {
        for (const dir of ['forward', 'backward', 'both'] as const) {
          for (const max of [0, 1, 3, n]) expect(propagationLength(n, start, dir, max), `${n} ${start} ${dir} ${max}`).toBe(enumerate(n, start, dir, max));
        }
      }
    }
    expect(propagationLength(62, 30, 'both')).toBe(62);
    expect(propagationLength(62, 30, 'both', 4)).toBe(9);
  });
});

describe('keepLargestComponent', () => {
  it('keeps the biggest 26-connected blob of one label and leaves other labels alone', () => {
    const dims = [6, 5, 4];
    const at = (x: number, y: number, z: number) => x + 6 * (y + 5 * z);
    const labels = new Uint8Array(120);
    // Blob A (label 2): 3 voxels linked only through corners (26-connectivity).
    labels[at(0, 0, 0)] = 2;
    labels[at(1, 1, 1)] = 2;
    labels[at(2, 2, 2)] = 2;
    // Blob B (label 2): 2 voxels.
    labels[at(5, 4, 0)] = 2;
    labels[at(5, 4, 1)] = 2;
    // Label 3 touching nothing: must survive.
    labels[at(5, 0, 3)] = 3;
    const removed = keepLargestComponent(labels, dims, 2);
    expect(removed).toBe(2);
    expect(labels[at(5, 4, 0)]).toBe(0);
    expect(labels[at(5, 4, 1)]).toBe(0);
    expect([at(0, 0, 0), at(1, 1, 1), at(2, 2, 2)].map((v) => labels[v])).toEqual([2, 2, 2]);
    expect(labels[at(5, 0, 3)]).toBe(3);
    expect(keepLargestComponent(labels, dims, 9)).toBe(0);
  });

  it('agrees with a brute-force flood fill on random masks', () => {
    const dims = [7, 6, 5];
    const n = 7 * 6 * 5;
    for (let seed = 1; seed <= 5; seed++) {
      const bits = randomInts(n, 0, 3, seed);
      const labels = Uint8Array.from(bits, (b) => (b === 0 ? 1 : 0));
      // Brute force: repeated relaxation of component ids to the minimum over 26 neighbours.
      const id = Int32Array.from(labels, (v, i) => (v ? i + 1 : 0));
      for (let changed = true; changed; ) {
        changed = false;
        for (let v = 0; v < n; v++) {
          if (!id[v]) continue;
          const x = v % 7;
          const y = Math.floor(v / 7) % 6;
          const z = Math.floor(v / 42);
          for (let dz = -1; dz <= 1; dz++)
            for (let dy = -1; dy <= 1; dy++)
              for (let dx = -1; dx <= 1; dx++) {
                const [xx, yy, zz] = [x + dx, y + dy, z + dz];
                if (xx < 0 || yy < 0 || zz < 0 || xx >= 7 || yy >= 6 || zz >= 5) continue;
                const u = xx + 7 * (yy + 6 * zz);
                if (id[u] && id[u] < id[v]) {
                  id[v] = id[u];
                  changed = true;
                }
              }
        }
      }
      const sizes = new Map<number, number>();
      for (const c of id) if (c) sizes.set(c, (sizes.get(c) ?? 0) + 1);
      const best = Math.max(...sizes.values());
      const copy = labels.slice();
      keepLargestComponent(copy, dims, 1);
      let kept = 0;
      for (const v of copy) kept += v;
      expect(kept).toBe(best);
      for (let v = 0; v < n; v++) if (copy[v]) expect(sizes.get(id[v])).toBe(best);
    }
  });
});

describe('segment argument groups', () => {
  it('parses points with signs and keeps box/points groups in order as objects', () => {
    expect(parsePoint('10,20,+')).toEqual({ x: 10, y: 20, label: 1 });
    expect(parsePoint('10.5,2,-')).toEqual({ x: 10.5, y: 2, label: 0 });
    expect(parsePoint('3,4')).toEqual({ x: 3, y: 4, label: 1 });
    expect(parsePoint('vol.nii.gz')).toBeNull();
    const { objects, rest } = extractObjectArgs([
      'vol.nii.gz', '--box', '1,2,30,40', '--points', '5,6,+', '7,8,-', '--slice', '3', '--points=9,9,+ 1,1,-', '--window', '400,40',
    ]);
    expect(objects).toEqual([
      { box: [1, 2, 30, 40] },
      { points: [{ x: 5, y: 6, label: 1 }, { x: 7, y: 8, label: 0 }] },
      { points: [{ x: 9, y: 9, label: 1 }, { x: 1, y: 1, label: 0 }] },
    ]);
    expect(rest).toEqual(['vol.nii.gz', '--slice', '3', '--window', '400,40']);
  });

  it('rejects malformed boxes and points with messages naming them', () => {
    expect(() => extractObjectArgs(['--box', '1,2,3'])).toThrow(/--box expects x0,y0,x1,y1.*"1,2,3"/);
    expect(() => extractObjectArgs(['--points', 'a,b,+'])).toThrow(/"a,b,\+" is not a point/);
    expect(() => extractObjectArgs(['--points'])).toThrow(/at least one point/);
  });

  it('parses eval prompt modes', () => {
    expect(parsePromptMode('box')).toEqual({ kind: 'box' });
    expect(parsePromptMode('clicks:3')).toEqual({ kind: 'clicks', clicks: 3 });
    expect(parsePromptMode('clicks')).toEqual({ kind: 'clicks', clicks: 1 });
    expect(() => parsePromptMode('scribble')).toThrow(/unknown prompt "scribble"/);
    expect(() => checkStructuresPresent(new Uint8Array([0, 4, 4, 9]), [4, 5])).toThrow(/structure 5 not found; label values present: 4, 9/);
  });
});

describe('ProgressBar', () => {
  it('prints plain lines at 10 % steps when not a terminal', () => {
    const lines: string[] = [];
    let now = 0;
    const bar = new ProgressBar({ total: 20, label: 'seg', stream: { write: (t: string) => lines.push(t), isTTY: false }, now: () => now });
    for (let i = 1; i <= 20; i++) {
      now += 500;
      bar.update(i);
    }
    bar.finish();
    expect(lines.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(lines[0]).toBe('seg 1/20 slices (5%)\n');
    expect(lines[1]).toBe('seg 2/20 slices (10%), 2.00 slices/s, ETA 9s\n');
    expect(lines.at(-1)).toBe('seg 20/20 slices (100%), 2.00 slices/s\n');
    expect(lines.length).toBe(11);
  });

  it('redraws one line in place on a terminal', () => {
    const out: string[] = [];
    let now = 0;
    const bar = new ProgressBar({ total: 4, stream: { write: (t: string) => out.push(t), isTTY: true, columns: 80 }, now: () => now });
    for (let i = 1; i <= 4; i++) {
      now += 2000;
      bar.update(i);
    }
    bar.finish();
    expect(out.slice(0, -1).every((t) => t.startsWith('\r\x1b[2K') && !t.endsWith('\n'))).toBe(true);
    expect(out.at(-1)).toMatch(/^\r\x1b\[2K\[█+\] 4\/4 100% 2\.0 s\/slice\n$/);
    expect(formatDuration(3725)).toBe('1h02m');
  });
});

describe('prepareVolume / toSourceLabels', () => {
  it('masks painted on LPS slices land on the source voxels of the same world position', () => {
    // An RAS-stored grid with an oblique-free affine: reorientation flips i and j.
    const dims: [number, number, number] = [5, 4, 3];
    const affine: Mat4 = [
      [2, 0, 0, -4],
      [0, 1.5, 0, 7],
      [0, 0, 3, 1],
      [0, 0, 0, 1],
    ];
    const data = Float32Array.from(randomInts(60, 0, 200, 7));
    const volume = createVolume({ dims, data, affine });
    const prepared = prepareVolume(volume, { axis: 'coronal' });
    expect(prepared.oriented.dims).toEqual([5, 4, 3]);
    const { width, height, count } = sliceShape(prepared.oriented.dims, 'coronal');
    expect([prepared.width, prepared.height, prepared.count]).toEqual([width, height, count]);
    // Label one pixel on one coronal slice, map back, and compare world positions.
    const labels = new Uint8Array(60);
    const [i, j, k] = sliceToVoxel(prepared.oriented.dims, 'coronal', 2, 1, 0);
    labels[i + 5 * (j + 4 * k)] = 1;
    const back = toSourceLabels(prepared, labels);
    expect(back.dims).toEqual(dims);
    expect(back.affine).toEqual(affine);
    const v = back.data.indexOf(1);
    expect(v).toBeGreaterThanOrEqual(0);
    const src = voxelToWorld(affine, v % 5, Math.floor(v / 5) % 4, Math.floor(v / 20));
    const dst = voxelToWorld(prepared.oriented.affine, i, j, k);
    src.forEach((c, a) => expect(c).toBeCloseTo(dst[a], 9));
    // orientLike is the inverse of toSourceLabels.
    expect(orientLike(prepared, back.data as Uint8Array)).toEqual(labels);
    // The windowed slices are the windowed oriented volume.
    expect(prepared.slice(2).length).toBe(width * height);
  });

  it('chooses MR percentiles for the ITK T1 and CT for HU data', () => {
    const t1 = readNifti(dataFile(DATA.itkT1));
    expect(defaultWindow(t1).name).toBe('mr');
    const ct = createVolume({ dims: [2, 2, 2], data: Int16Array.from([-1024, 40, 60, 1000, 0, 0, 10, 20]) });
    expect(defaultWindow(ct).name).toBe('abdomen');
    const dicomMr = { ...ct, source: { format: 'dicom' as const, modality: 'MR' } };
    expect(defaultWindow(dicomMr).name).toBe('mr');
  });
});
