// Soak (SAM2_FULL=1 only, issue 13): 1000 slices of propagation on the micro model with synthetic
// weights, checking that GPU memory stays flat once the memory bank is full and that the
// process's memory does not grow beyond what the finished slices' host outputs need. Prints the
// numbers recorded in bench/RESULTS.md.
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/model/config.js';
import type { SliceSource } from '../../src/model/feature-scheduler.js';
import { Sam2Model } from '../../src/model/sam2-model.js';
import { Sam2Video } from '../../src/model/video-predictor.js';
import { syntheticWeightsFile } from '../../src/weights/synthetic.js';
import { getTestGpu } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

const FULL = process.env.SAM2_FULL === '1';
const SLICES = Number(process.env.SAM2_SOAK_SLICES ?? 1000);
const W = 96;
const H = 80;
const mb = (b: number) => +(b / 2 ** 20).toFixed(1);

describe.skipIf(!FULL)('soak', () => {
  it(`propagates ${SLICES} slices with flat GPU memory and bounded RSS`, async () => {
    const gpu = await getTestGpu();
    const config = makeConfig('micro');
    const file = syntheticWeightsFile(config);
    const model = await Sam2Model.load(gpu, file, config);
    const source: SliceSource = {
      numFrames: SLICES,
      width: W,
      height: H,
      loadImage(t: number) {
        const px = new Uint8Array(W * H);
        const noise = randomArray(W * H, (t % 97) + 1, 0, 20);
        for (let y = 0; y < H; y++)
          for (let x = 0; x < W; x++) {
            const d = Math.hypot(x - 40 - 10 * Math.sin(t / 9), y - 40);
            px[y * W + x] = Math.min(255, (d < 18 ? 200 : 60) + noise[y * W + x]);
          }
        return model.preprocess({ pixels: px, width: W, height: H, channels: 1 });
      },
    };
    const video = Sam2Video.create(gpu, model, model.root, source);
    await video.addPoints(0, 1, [[40, 40]], [1]);
    const rss0 = process.memoryUsage().rss;
    const samples: Array<{ slice: number; gpuBytes: number; buffers: number; rss: number; heap: number }> = [];
    const t0 = performance.now();
    let n = 0;
    let foreground = 0;
    for await (const r of video.propagate({ direction: 'forward' })) {
      foreground += r.masks[0].reduce((a, v) => a + v, 0);
      if (n % 100 === 0 || n === SLICES - 1) {
        const m = process.memoryUsage();
        samples.push({ slice: n, gpuBytes: gpu.memory.allocatedBytes, buffers: gpu.memory.created, rss: m.rss, heap: m.heapUsed });
        console.log(`[soak] slice ${n}: GPU ${mb(gpu.memory.allocatedBytes)} MiB, ${gpu.memory.created} buffers, RSS ${mb(m.rss)} MiB, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
      n++;
    }
    const seconds = (performance.now() - t0) / 1000;
    video.dispose();
    model.release();
    expect(n).toBe(SLICES);
    expect(foreground).toBeGreaterThan(0);
    const warm = samples[1]; // slice 100: the bank filled up long before
    const last = samples[samples.length - 1];
    console.log(
      `[soak] ${SLICES} slices in ${seconds.toFixed(0)} s on ${gpu.adapterName}; GPU ${mb(warm.gpuBytes)} MiB at slice ${warm.slice} -> ` +
        `${mb(last.gpuBytes)} MiB at slice ${last.slice} (${warm.buffers} -> ${last.buffers} buffers); RSS ${mb(rss0)} MiB at start, ` +
        `${mb(warm.rss)} MiB at slice ${warm.slice}, ${mb(last.rss)} MiB at the end; heap ${mb(warm.heap)} -> ${mb(last.heap)} MiB`,
    );
    // GPU memory: not one buffer more after the bank is full.
    expect(last.gpuBytes).toBe(warm.gpuBytes);
    expect(last.buffers).toBe(warm.buffers);
    // Host memory: the finished slices' outputs (logits and pointer, ~1.3 KiB a slice on micro)
    // are kept; anything beyond a small allowance for allocator noise is a leak.
    expect(last.rss - warm.rss).toBeLessThan(96 * 2 ** 20);
  }, 3 * 3600_000);
});
