// Bad inputs to `sam2-webgpu segment` / `eval`, through the command line from source (scripts/cli-dev.mjs):
// each must exit non-zero with a message naming the problem, before any GPU work, write no output
// file and leave the inputs untouched.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/model/config.js';
import { writeNifti } from '../../src/volume/nifti.js';
import { createVolume } from '../../src/volume/volume.js';
import { writeSyntheticWeights } from '../../weights-tools/synth.js';
import { REPO_ROOT } from '../helpers/fixtures-dir.js';
import { DATA, dataFile } from '../volume/helpers/data-files.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-bad-'));
const weights = join(dir, 'micro.safetensors');
const t1 = join(dir, 't1.nii.gz');
const out = join(dir, 'mask.nii.gz');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await writeSyntheticWeights(makeConfig('micro'), weights);
  writeFileSync(t1, dataFile(DATA.itkT1));
});

function cli(...args: string[]) {
  // VK_ICD_FILENAMES is pointed at nothing: a run that reached the GPU would fail differently.
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'cli-dev.mjs'), ...args], {
    encoding: 'utf8',
    cwd: dir,
    timeout: 120_000,
    env: { ...process.env, VK_ICD_FILENAMES: join(dir, 'no-such-icd.json') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Runs the CLI and checks: non-zero exit, message matches, no new files, inputs unchanged. */
function expectFailure(args: string[], message: RegExp, inputs: string[] = [t1, weights]) {
  const before = new Map(inputs.map((p) => [p, digest(p)]));
  const files = readdirSync(dir).sort();
  const r = cli(...args);
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.status).not.toBeNull();
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  expect(r.stdout).toBe('');
  expect(readdirSync(dir).sort()).toEqual(files);
  for (const [p, h] of before) expect(digest(p), p).toBe(h);
  return r;
}

describe('segment: bad inputs fail early with clear messages', () => {
  it('a file that is not a volume', () => {
    const txt = join(dir, 'notes.nii.gz');
    writeFileSync(txt, 'this is not an image\n'.repeat(40));
    expectFailure(['segment', txt, '--weights', weights, '--box', '1,1,5,5', '--out', out], /image .*notes\.nii\.gz: not a NIfTI file/, [txt, weights]);
  });

  it('a 2D image', () => {
    const flat = join(dir, 'flat.nii.gz');
    writeFileSync(flat, writeNifti(createVolume({ dims: [16, 12, 1], data: new Uint8Array(192).fill(7) })));
    expectFailure(['segment', flat, '--weights', weights, '--box', '1,1,5,5', '--out', out], /flat\.nii\.gz: not a volume: the image is 16×12×1/, [flat, weights]);
  });

  it('a slice index out of range', () => {
    // The ITK T1 (128×128×62, LSA) has 62 coronal slices once reoriented to LPS.
    expectFailure(
      ['segment', t1, '--weights', weights, '--axis', 'coronal', '--slice', '62', '--box', '10,10,40,40', '--out', out],
      /coronal slice index 62 is out of range: the volume has 62 coronal slices \(0\.\.61\)/,
    );
  });

  it('a box outside the image', () => {
    expectFailure(
      ['segment', t1, '--weights', weights, '--axis', 'coronal', '--slice', '30', '--box', '100,20,140,60', '--out', out],
      /object 1 \(--box\): box \[100, 20, 140, 60\] extends outside the 128×128 slice .* of coronal slice 30/,
    );
  });

  it('a click outside the image, on the second object', () => {
    expectFailure(
      ['segment', t1, '--weights', weights, '--box', '10,10,20,20', '--points', '5,5,+', '500,5,-', '--out', out],
      /object 2 \(--points\): point 1 \(500, 5\) is outside the 128×62 slice/,
    );
  });

  it('an output that is the input, or exists already without --force', () => {
    expectFailure(['segment', t1, '--weights', weights, '--box', '1,1,5,5', '--out', t1], /t1\.nii\.gz is also an input; refusing to overwrite it/);
    const existing = join(dir, 'existing.nii.gz');
    copyFileSync(t1, existing);
    expectFailure(['segment', t1, '--weights', weights, '--box', '1,1,5,5', '--out', existing], /existing\.nii\.gz already exists; pass --force/, [t1, weights, existing]);
    rmSync(existing);
  });

  it('weights that are not a safetensors file', () => {
    expectFailure(['segment', t1, '--weights', t1, '--box', '1,1,5,5', '--out', out], /weights .*t1\.nii\.gz: not a safetensors file/);
  });

  it('no prompt at all is a usage error', () => {
    const r = expectFailure(['segment', t1, '--weights', weights, '--out', out], /give at least one object: --box x0,y0,x1,y1 or --points x,y,\+/);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: sam2-webgpu segment/);
  });
});

describe('eval: bad inputs fail early with clear messages', () => {
  it('labels on another grid (Colin27 image with the ITK skull-strip labels)', () => {
    const ch2 = join(dir, 'ch2.nii.gz');
    const lab = join(dir, 'itk-labels.nii.gz');
    writeFileSync(ch2, dataFile(DATA.ch2));
    writeFileSync(lab, dataFile(DATA.itkLabels));
    expectFailure(
      ['eval', ch2, '--labels', lab, '--weights', weights, '--structures', '6', '--report-dir', join(dir, 'report')],
      /labels .*itk-labels\.nii\.gz do not match image .*ch2\.nii\.gz: dims \[128, 128, 62\] vs \[181, 217, 181\]/,
      [ch2, lab, weights],
    );
    rmSync(ch2);
    rmSync(lab);
  });

  it('a structure the labels do not contain', () => {
    const lab = join(dir, 'itk-labels.nii.gz');
    writeFileSync(lab, dataFile(DATA.itkLabels));
    expectFailure(
      ['eval', t1, '--labels', lab, '--weights', weights, '--structures', '6,7', '--report-dir', join(dir, 'report')],
      /structure 7 not found; label values present: 4, 5, 6/,
      [t1, lab, weights],
    );
    rmSync(lab);
  });
});

it('the output file is absent after every failure above', () => {
  expect(existsSync(out)).toBe(false);
  expect(existsSync(join(dir, 'report'))).toBe(false);
});
