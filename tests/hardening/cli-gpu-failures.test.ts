// `sam2-webgpu segment` when the GPU fails (issue 13, item 1), through the real entry point with
// SAM2_GPU_FAULT: a simulated out-of-memory error exits 1 with the message and writes nothing (no
// partial or temporary file); a device lost mid-propagation is reported, the run resumes on a new
// device and writes exactly the mask an uninterrupted run gives.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/model/config.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { prepareVolume, toSourceLabels } from '../../src/pipeline/prepare-volume.js';
import { segmentVolume } from '../../src/pipeline/segment-volume.js';
import { Gpu } from '../../src/runtime/gpu.js';
import { readNifti, writeNifti } from '../../src/volume/nifti.js';
import { createVolume } from '../../src/volume/volume.js';
import { readSafetensorsFile } from '../../src/io/node-files.js';
import { writeSyntheticWeights } from '../../weights-tools/synth.js';
import { REPO_ROOT } from '../helpers/fixtures-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-gpu-'));
const weights = join(dir, 'micro.safetensors');
const image = join(dir, 'blob.nii.gz');
const BOX = [14, 12, 30, 28] as const;
const ARGS = ['--box', BOX.join(','), '--slice', '3', '--max-slices', '2', '--window', 'minmax', '--quiet'];
let reference: Uint8Array;
let loadAllocations = 0;
let loadSubmits = 0;
let runSubmits = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await writeSyntheticWeights(makeConfig('micro'), weights);
  const [nx, ny, nz] = [44, 40, 7];
  const data = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[i + nx * (j + ny * k)] = Math.hypot(i - 22, j - 20) < 9 + k / 2 ? 180 : 40 + ((i * 7 + j * 3 + k) % 25);
  const volume = createVolume({ dims: [nx, ny, nz], data });
  writeFileSync(image, writeNifti(volume));

  // The uninterrupted run, in this process on a fresh device, counting what the faults count.
  const gpu = await Gpu.create();
  try {
    const model = await Sam2Model.load(gpu, await readSafetensorsFile(weights));
    loadAllocations = gpu.memory.created;
    loadSubmits = gpu.submitted;
    const prepared = prepareVolume(readNifti(readFileSync(image)), { axis: 'axial', window: { spec: { kind: 'minmax' }, name: 'minmax' } });
    const result = await segmentVolume(gpu, model, prepared, [{ label: 1, slice: 3, box: [...BOX] }], { direction: 'both', maxSlices: 2 });
    runSubmits = gpu.submitted - loadSubmits;
    reference = toSourceLabels(prepared, result.labels).data as Uint8Array;
    model.release();
  } finally {
    gpu.destroy();
  }
  expect(reference.some((v) => v === 1)).toBe(true);
});

function segment(out: string, fault: string) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'sam2-webgpu.mjs'), 'segment', image, '--weights', weights, '--out', out, ...ARGS], {
    encoding: 'utf8',
    cwd: dir,
    timeout: 300_000,
    env: { ...process.env, SAM2_GPU_FAULT: fault },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('segment when the GPU fails', () => {
  it('out of memory: exit 1, the message names the tensor, nothing is written', () => {
    const out = join(dir, 'oom.nii.gz');
    const before = readdirSync(dir).sort();
    const r = segment(out, `oom:${loadAllocations + 4}`);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/(^|\n)sam2-webgpu segment: GPU out of memory allocating tensor "[^"]+" \(.*\); nothing was written\. Free GPU memory/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(before); // no partial or temporary file
  });

  it('device lost before propagation (while prompting): the loss is named, nothing is written', () => {
    const out = join(dir, 'lost-early.nii.gz');
    const before = readdirSync(dir).sort();
    const r = segment(out, `lost:${loadSubmits + 1}`);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/(^|\n)sam2-webgpu segment: GPU device lost: destroyed \(device was destroyed\); nothing was written\. The GPU driver reset/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('device lost mid-propagation: reported, resumed on a new device, the same mask as an uninterrupted run', () => {
    const out = join(dir, 'lost.nii.gz');
    // Half-way through the propagation's submits (after the model load and the prompt).
    const r = segment(out, `lost:${loadSubmits + Math.ceil(runSubmits * 0.6)}`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/GPU device lost: destroyed \(device was destroyed\)\nresuming on a new GPU device from slice \d+ of 5 \(\d+ finished slices kept\)/);
    expect(r.stdout).toMatch(/wrote .*lost\.nii\.gz/);
    expect(readNifti(readFileSync(out)).data).toEqual(reference);
  });
});
