// Image-encoder host work per slice: dispatches (and submits, bind groups) per encoded slice at
// batch sizes B (ImageEncoder.encodeBatch; B = 1 is encode()), optionally with the wall time per
// slice. Synthetic weights (real shapes).
//
//   npx tsx bench/encoder/dispatches.ts                          # micro@256 and hiera-t@512, B = 1, 2, 4
//   npx tsx bench/encoder/dispatches.ts --models sam2.1_hiera_t@512 --batches 1,4 --time
import { makeConfig } from '../../src/model/config.js';
import { ImageEncoder } from '../../src/model/image-encoder.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { createBenchGpu } from '../lib/bench-gpu.js';
import { loadSynthetic } from '../lib/model-bench.js';
import { fmt, formatTable } from '../lib/stats.js';
import { randomValues } from '../lib/tensors.js';

interface Args {
  models: Array<{ arch: string; size?: number }>;
  batches: number[];
  time: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { models: [{ arch: 'micro' }, { arch: 'sam2.1_hiera_t', size: 512 }], batches: [1, 2, 4], time: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--models') {
      a.models = v.split(',').map((m) => {
        const [arch, size] = m.split('@');
        return { arch, size: size ? Number(size) : undefined };
      });
      i++;
    } else if (argv[i] === '--batches') (a.batches = v.split(',').map(Number)), i++;
    else if (argv[i] === '--time') a.time = true;
    else throw new Error(`bench/encoder/dispatches: unknown argument ${argv[i]}`);
  }
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const gpu = await createBenchGpu();
  console.log(`adapter: ${gpu.adapterName}`);
  const rows: string[][] = [];
  for (const m of args.models) {
    const config = makeConfig(m.arch, m.size ? { imageSize: m.size } : {});
    const model = await loadSynthetic(gpu, config);
    const encoder = new ImageEncoder(gpu, model.root, config);
    const s = config.imageSize;
    const maxB = Math.max(...args.batches);
    const images: GpuTensor[] = Array.from({ length: maxB }, (_, i) => gpu.upload(randomValues(s * s * 3, 11 + i, -2, 2), [s, s, 3]));
    for (const b of args.batches) {
      const run = () => {
        const feats = b === 1 ? [encoder.encode(images[0])] : encoder.encodeBatch(images.slice(0, b));
        for (const f of feats) for (const t of [f.s0, f.s1, f.l2]) t.release();
      };
      if (args.time) {
        run(); // warm-up: pipelines compiled, pool filled (counts are taken at recording and need none)
        await gpu.sync();
      }
      const c0 = gpu.counters;
      const t0 = performance.now();
      run();
      gpu.flush();
      const c1 = gpu.counters;
      if (args.time) await gpu.sync();
      const ms = performance.now() - t0;
      const per = (k: 'dispatches' | 'submits' | 'bindGroupsCreated') => fmt((c1[k] - c0[k]) / b, 2);
      rows.push([`${config.arch}@${s}`, String(b), per('dispatches'), per('submits'), per('bindGroupsCreated'), args.time ? fmt(ms / b, 0) : '-']);
      console.log(rows[rows.length - 1].join('  '));
    }
    for (const im of images) im.release();
    encoder.release();
    model.release();
  }
  console.log(
    '\n' +
      formatTable(['model', 'B', 'dispatches/slice', 'submits/slice', 'bind groups/slice', 'wall ms/slice'], rows, [false, true, true, true, true, true]),
  );
  gpu.destroy();
}

void main();
