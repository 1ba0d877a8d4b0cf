// `sam2-webgpu quant-eval` end to end on the ITK T1 volume with micro synthetic weights: f32 and
// one reduced precision, one slice each way from the key slice. Checks the files and that the
// numbers are the right ones (f32 agrees with itself, int8 weights are smaller, components differ).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { makeConfig } from '../../src/model/config.js';
import type { QuantEvalRow } from '../../src/pipeline/quant-eval.js';
import { writeSyntheticWeights } from '../../weights-tools/synth.js';
import { decodePng } from '../eval/helpers/png-decode.js';
import { DATA, dataFile } from '../volume/helpers/data-files.js';

const dir = mkdtempSync(join(tmpdir(), 'quant-eval-'));
const weights = join(dir, 'micro.safetensors');

beforeAll(async () => {
  dataFile(DATA.itkT1);
  dataFile(DATA.itkLabels);
  await writeSyntheticWeights(makeConfig('micro'), weights);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('quant-eval verb', () => {
  it('writes JSON, Markdown and a PNG chart comparing f32 with int8 (min=0)', async () => {
    const report = join(dir, 'report');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const code = await main([
      'quant-eval', DATA.itkT1.path, '--labels', DATA.itkLabels.path, '--weights', weights, '--structures', '6',
      '--configs', 'int8,min=0', '--max-slices', '1', '--report-dir', report, '--quiet',
    ]);
    log.mockRestore();
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(join(report, 'quant-eval.json'), 'utf8')) as { rows: QuantEvalRow[]; notes: string[] };
    const [f32, int8] = json.rows;
    expect(json.rows.map((r) => r.precision)).toEqual(['f32', 'int8,min=0']);
    expect(f32.agreement.volumeDice).toBe(1);
    expect(f32.components).toEqual({ encoder: 0, memattn: 0, memenc: 0, decoder: 0 });
    expect(int8.weightsBytes).toBeLessThan(0.35 * f32.weightsBytes);
    expect(int8.weightsByFormat.int8).toBeGreaterThan(0);
    for (const c of ['encoder', 'memattn', 'memenc', 'decoder'] as const) {
      expect(int8.components[c]).toBeGreaterThan(1e-4);
      expect(int8.components[c]).toBeLessThan(0.1);
    }
    for (const r of json.rows) {
      expect(r.slices).toBe(3);
      expect(r.slicesPerSecond).toBeGreaterThan(0);
      expect(r.peakGpuBytes).toBeGreaterThan(r.weightsBytes);
    }
    expect(json.notes.join(' ')).toMatch(/synthetic.*meaningless/);
    const md = readFileSync(join(report, 'quant-eval.md'), 'utf8');
    expect(md).toMatch(/\| int8,min=0 \| [\d.]+ \| [\d.]+× \|/);
    const png = decodePng(readFileSync(join(report, 'quant-eval.png')));
    expect(png.width).toBeGreaterThan(400);
  });

  it('names a bad precision before any work', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const code = await main(['quant-eval', DATA.itkT1.path, '--labels', DATA.itkLabels.path, '--weights', weights, '--structures', '6', '--configs', 'int8;int3']);
    expect(code).toBe(2);
    expect(err.mock.calls.flat().join(' ')).toMatch(/unknown weight precision "int3"/);
    err.mockRestore();
    expect(existsSync(join(dir, 'quant-eval'))).toBe(false);
  });
});
