// Child-process runner: imports a reproducer module (argv[2]), runs its cases one by one and prints
// one JSON line per case, then the peak resident set size of this process. Run with
// `node --import tsx` so the parent test can bound time and memory per reader.
import { pathToFileURL } from 'node:url';
import type { Reproducer, ReproducerOutcome } from './reproducer.js';

const mod = (await import(pathToFileURL(process.argv[2]).href)) as { reproducers: Reproducer[] };
for (const r of mod.reproducers) {
  const t0 = performance.now();
  const out: ReproducerOutcome = { name: r.name, ms: 0 };
  try {
    const result = await r.run();
    out.ms = performance.now() - t0;
    if (r.error) out.wrong = 'expected an error, the input was accepted';
    else {
      try {
        r.check?.(result);
      } catch (e) {
        out.wrong = (e as Error).message;
      }
    }
  } catch (e) {
    out.ms = performance.now() - t0;
    out.error = (e as Error)?.message ?? String(e);
    out.errorName = (e as Error)?.name;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
process.stdout.write(`${JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
