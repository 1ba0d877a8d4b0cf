// End-to-end through the command line from source (scripts/cli-dev.mjs: tsx + src/cli/run.ts, what
// bin/sam2-webgpu.mjs runs compiled; tests/package covers the bin of the packed tarball).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath, REPO_ROOT } from '../helpers/fixtures-dir.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'cli-dev.mjs'), ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sam2-webgpu CLI', () => {
  it('converts the official micro checkpoint and inspects the result', () => {
    const out = join(dir, 'micro.safetensors');
    const conv = cli('convert', fixturePath('micro-image', 'checkpoint.pt'), out, '--dtype', 'f16');
    expect(conv.stderr).toBe('');
    expect(conv.status).toBe(0);
    expect(conv.stdout).toMatch(/micro \(SAM 2\.1, 256 px\), 371 tensors, 1,668,946 values, f16/);
    const insp = cli('inspect', out, '--json', '--check-finite');
    expect(insp.status).toBe(0);
    const report = JSON.parse(insp.stdout);
    expect(report).toMatchObject({ ok: true, dtypes: { F16: 371 }, config: { arch: 'micro', source: 'metadata' } });
  });

  it('fails with a clear message, status 1 and no output file on a truncated checkpoint', () => {
    const bad = join(dir, 'truncated.pt');
    writeFileSync(bad, readFileSync(fixturePath('micro-image', 'checkpoint.pt')).subarray(0, 1_000_000));
    const r = cli('convert', bad, join(dir, 'never.safetensors'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^sam2-webgpu convert: zip: end-of-central-directory record not found/);
    expect(existsSync(join(dir, 'never.safetensors'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('usage errors exit with status 2', () => {
    const missing = cli('convert', 'only-one-argument.pt');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/expected 2 argument\(s\), got 1[\s\S]*usage: sam2-webgpu convert/);
    const unknownOption = cli('inspect', 'x', '--bogus');
    expect(unknownOption.status).toBe(2);
    expect(unknownOption.stderr).toMatch(/Unknown option '--bogus'/);
    const unknownVerb = cli('frobnicate');
    expect(unknownVerb.status).toBe(2);
    expect(unknownVerb.stderr).toMatch(/unknown verb "frobnicate"[\s\S]*convert[\s\S]*synth[\s\S]*inspect/);
    expect(cli('synth', '--help').stdout).toMatch(/usage: sam2-webgpu synth/);
  });
});
