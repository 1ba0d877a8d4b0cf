// Dispatches per tracked slice, per component: propagates one object through a synthetic volume and
// attributes the Gpu counters to the model call that recorded them (image encoder, memory
// attention, prompt encoder, mask decoder, the heads' selection, memory encoder; "other" is the
// rest: memory-bank assembly, readbacks). Counts are per slice, averaged over the tracked slices
// (slice 0, the prompted one, is not counted). Weights are synthetic; counts do not depend on them.
//
//   npm run bench:dispatches                          # hiera-t @ 512 px and micro, 3 tracked slices
//   npm run bench:dispatches -- --arch micro --slices 4
import { makeConfig } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Video } from '../../src/model/video-predictor.js';
import type { Gpu, GpuCounters } from '../../src/runtime/gpu.js';
import type { GpuTensor } from '../../src/runtime/tensor.js';
import { createBenchGpu } from '../lib/bench-gpu.js';
import { loadSynthetic } from '../lib/model-bench.js';
import { formatTable } from '../lib/stats.js';
import { randomValues } from '../lib/tensors.js';

interface Args {
  archs: { arch: string; size?: number }[];
  slices: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { archs: [{ arch: 'sam2.1_hiera_t', size: 512 }, { arch: 'micro' }], slices: 3 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--arch') (a.archs = [{ arch: v, size: a.archs.length === 1 ? a.archs[0].size : undefined }]), i++;
    else if (argv[i] === '--size') (a.archs = a.archs.map((x) => ({ ...x, size: Number(v) }))), i++;
    else if (argv[i] === '--slices') (a.slices = Number(v)), i++;
    else throw new Error(`bench:dispatches: unknown argument ${argv[i]}`);
  }
  return a;
}

type Tally = Map<string, { dispatches: number; bindGroups: number; blocking: number }>;

/**
 * Replaces `obj[method]` (an instance method, sync or async) with one that adds the counters it
 * recorded to `tally[label]`. Nested wrapped calls are subtracted from their caller, so every
 * dispatch is counted once, under the innermost wrapped component.
 */
function attribute(gpu: Gpu, tally: Tally, stack: GpuCounters[][], obj: object, method: string, label: string): void {
  const o = obj as Record<string, (...args: unknown[]) => unknown>;
  const original = o[method].bind(obj);
  const add = (start: GpuCounters, nested: GpuCounters[]): void => {
    const end = gpu.counters;
    const t = tally.get(label) ?? { dispatches: 0, bindGroups: 0, blocking: 0 };
    let d = end.dispatches - start.dispatches;
    let b = end.bindGroupsCreated - start.bindGroupsCreated;
    let w = end.blockingAwaits - start.blockingAwaits;
    for (const n of nested) (d -= n.dispatches), (b -= n.bindGroupsCreated), (w -= n.blockingAwaits);
    t.dispatches += d;
    t.bindGroups += b;
    t.blocking += w;
    tally.set(label, t);
    const total: GpuCounters = { ...end, dispatches: end.dispatches - start.dispatches, bindGroupsCreated: end.bindGroupsCreated - start.bindGroupsCreated, blockingAwaits: end.blockingAwaits - start.blockingAwaits };
    stack[stack.length - 1]?.push(total);
  };
  o[method] = (...args: unknown[]) => {
    const start = gpu.counters;
    const nested: GpuCounters[] = [];
    stack.push(nested);
    let r: unknown;
    try {
      r = original(...args);
    } catch (e) {
      stack.pop();
      throw e;
    }
    if (r instanceof Promise) {
      // Async components (the decode) await their readback before returning; the chain is sequential.
      return r.finally(() => {
        stack.pop();
        add(start, nested);
      });
    }
    stack.pop();
    add(start, nested);
    return r;
  };
}

async function breakdown(gpu: Gpu, arch: string, size: number | undefined, slices: number) {
  const config = makeConfig(arch, size ? { imageSize: size } : {});
  const model = await loadSynthetic(gpu, config);
  const S = config.imageSize;
  const source: SliceSource = {
    numFrames: slices + 1,
    height: S,
    width: S,
    loadImage: (t) => gpu.upload(randomValues(S * S * 3, 100 + t, -2, 2), [S, S, 3]) as GpuTensor,
  };
  const video = Sam2Video.create(gpu, model, model.root, source);
  await video.addPoints(0, 1, [[S / 2, S / 2]], [1]);
  const tally: Tally = new Map();
  const stack: GpuCounters[][] = [];
  attribute(gpu, tally, stack, model, 'encodeImage', 'image encoder');
  attribute(gpu, tally, stack, model.memoryAttention, 'forward', 'memory attention');
  attribute(gpu, tally, stack, model.heads.promptEncoder, 'forward', 'prompt encoder');
  attribute(gpu, tally, stack, model.heads.maskDecoder, 'forward', 'mask decoder');
  attribute(gpu, tally, stack, model.heads, 'forward', 'heads: selection, resize, obj ptr');
  attribute(gpu, tally, stack, model.memoryEncoder, 'forward', 'memory encoder');
  await gpu.sync();
  // Counted from the prompted slice's output on: the preflight (its memory) is not a tracked slice.
  let start = gpu.counters;
  let n = 0;
  for await (const r of video.propagate({ direction: 'forward' })) {
    if (r.slice > 0) n++;
    else {
      tally.clear();
      start = gpu.counters;
    }
  }
  const end = gpu.counters;
  video.dispose();
  model.release();
  const per = (v: number): string => (v / n).toFixed(1);
  const total = end.dispatches - start.dispatches;
  const counted = [...tally.values()].reduce((a, t) => a + t.dispatches, 0);
  const countedWaits = [...tally.values()].reduce((a, t) => a + t.blocking, 0);
  const rows = [...tally.entries()].map(([k, t]) => [k, per(t.dispatches), per(t.bindGroups), per(t.blocking)]);
  rows.push(['other (bank, readbacks)', per(total - counted), '', per(end.blockingAwaits - start.blockingAwaits - countedWaits)]);
  rows.push(['total', per(total), per(end.bindGroupsCreated - start.bindGroupsCreated), per(end.blockingAwaits - start.blockingAwaits)]);
  return { label: `${arch} @ ${S} px, ${n} tracked slices, 1 object`, rows, submits: per(end.submits - start.submits) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const gpu = await createBenchGpu();
  console.log(`adapter: ${gpu.adapterName}`);
  for (const { arch, size } of args.archs) {
    const r = await breakdown(gpu, arch, size, args.slices);
    console.log(`\n${r.label} (per tracked slice; submits ${r.submits})`);
    console.log(formatTable(['component', 'dispatches', 'bind groups', 'blocking awaits'], r.rows, [false, true, true, true]));
  }
  gpu.destroy();
}

await main();
