// The hostile inputs of issue 13 as regression tests. Each reader's reproducers run in a child
// process (fresh heap, its own peak RSS), and every one must end in a clear error, or a correct
// read, within 2 s and with the process under 500 MB.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { RSS_BUDGET_MB, TIME_BUDGET_MS, type Reproducer, type ReproducerOutcome } from './helpers/reproducer.js';

const here = dirname(fileURLToPath(import.meta.url));
const runner = join(here, 'helpers', 'run-reproducers.ts');
const modules = readdirSync(join(here, 'reproducers')).filter((f) => f.endsWith('.ts')).sort();

/** Errors that mean the reader crashed instead of refusing the input. */
const RAW_ERRORS = /^(RangeError|TypeError|SyntaxError|ReferenceError|InternalError)$/;

for (const file of modules) {
  describe(`reproducers: ${file}`, async () => {
    const { reproducers } = (await import(`./reproducers/${file}`)) as { reproducers: Reproducer[] };
    const outcomes = new Map<string, ReproducerOutcome>();
    let maxRssMb = 0;

    beforeAll(async () => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', runner, join(here, 'reproducers', file)], {
        maxBuffer: 1 << 24,
        timeout: 120_000,
      });
      for (const line of stdout.split('\n').filter(Boolean)) {
        const o = JSON.parse(line) as ReproducerOutcome & { maxRssMb?: number };
        if (o.maxRssMb !== undefined) maxRssMb = o.maxRssMb;
        else outcomes.set(o.name, o);
      }
    });

    for (const r of reproducers) {
      it(r.name, () => {
        const o = outcomes.get(r.name);
        expect(o, 'the runner produced no outcome').toBeDefined();
        expect(o!.wrong).toBeUndefined();
        if (r.error) {
          expect(o!.errorName ?? '').not.toMatch(RAW_ERRORS);
          expect(o!.error).toMatch(r.error);
        } else {
          expect(o!.error).toBeUndefined();
        }
        expect(o!.ms).toBeLessThan(TIME_BUDGET_MS);
      });
    }

    it(`peak RSS of the process stays under ${RSS_BUDGET_MB} MB`, () => {
      expect(maxRssMb).toBeGreaterThan(0);
      expect(maxRssMb).toBeLessThan(RSS_BUDGET_MB);
    });
  });
}
