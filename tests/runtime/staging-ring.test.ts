// Uploads through the staging ring: in program order with the recorded work (no submit per
// upload), odd sizes padded, large uploads on their own buffer, chunks reused once the GPU is done
// with them (the count stays flat), and no stale bytes when a chunk is refilled.
import { beforeAll, describe, expect, it } from 'vitest';
import { binary } from '../../src/kernels/elementwise/elementwise.js';
import type { Gpu } from '../../src/runtime/gpu.js';
import { StagingRing } from '../../src/runtime/staging-ring.js';
import { getTestGpu } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await getTestGpu();
});

const sum = (a: Float32Array, b: Float32Array) => a.map((x, i) => Math.fround(x + b[i]));

describe('staging ring', () => {
  it('keeps uploads in order with the launches around them, without submitting per upload', async () => {
    const n = 777;
    const b = gpu.upload(randomArray(n, 1), [n]);
    const bData = await gpu.read(b);
    const a = gpu.empty([n]);
    const outs = [];
    const datas = [];
    const before = gpu.counters.submits;
    for (let r = 0; r < 5; r++) {
      const d = randomArray(n, 10 + r, -5, 5);
      datas.push(d);
      gpu.write(a, d); // overwrites what the previous launch read: must land after it
      const o = gpu.upload(new Float32Array(n).fill(NaN), [n]);
      binary(gpu, 'add', a, b, o);
      outs.push(o);
    }
    expect(gpu.counters.submits).toBe(before);
    for (let r = 0; r < 5; r++) expect(await gpu.read(outs[r])).toEqual(sum(datas[r], bData));
    for (const t of [a, b, ...outs]) t.release();
  });

  it('pads odd byte lengths and takes large uploads on their own buffer', async () => {
    const odd = gpu.upload(new Uint16Array([1, 2, 3, 0xfffe, 5]), [5], 'f16');
    expect(new Uint16Array(await gpu.readRaw(odd)).slice(0, 5)).toEqual(new Uint16Array([1, 2, 3, 0xfffe, 5]));
    const big = randomArray(150_001, 3, -100, 100); // 600 kB: past half a 1 MiB chunk
    const t = gpu.upload(big, [big.length]);
    expect(await gpu.read(t)).toEqual(big);
    for (const x of [odd, t]) x.release();
  });

  it('reuses its chunks once the GPU is done with them, with no stale bytes', async () => {
    const ring = new StagingRing((d) => gpu.device.createBuffer(d), 1024);
    const dst = gpu.empty([64 * 40 + 300]);
    const expected = new Float32Array(64 * 40 + 300).fill(NaN);
    gpu.write(dst, expected);
    await gpu.sync();
    let grown = 0;
    for (let round = 0; round < 10; round++) {
      const enc = gpu.device.createCommandEncoder();
      // 40 pieces of 20..64 floats: several chunks per round, pieces split across them; and one
      // piece past half a chunk, on its own buffer.
      for (let k = 0; k < 40; k++) {
        const len = 20 + ((k * 7 + round * 3) % 45);
        const piece = randomArray(len, 1000 * round + k, -9, 9);
        ring.upload(enc, dst.buffer, k * 64 * 4, new Uint8Array(piece.buffer));
        expected.set(piece, k * 64);
      }
      const large = randomArray(300, round + 77, -3, 3);
      ring.upload(enc, dst.buffer, 64 * 40 * 4, new Uint8Array(large.buffer));
      expected.set(large, 64 * 40);
      ring.beforeSubmit();
      gpu.device.queue.submit([enc.finish()]);
      ring.afterSubmit();
      expect(await gpu.read(dst)).toEqual(expected);
      await new Promise((r) => setTimeout(r, 10)); // let the chunk maps resolve
      if (round === 3) grown = ring.chunkCount;
    }
    expect(grown).toBeGreaterThan(1);
    expect(ring.chunkCount).toBe(grown);
    expect(() => ring.upload(gpu.device.createCommandEncoder(), dst.buffer, 0, new Uint8Array(6))).toThrow(/multiple of 4/);
    ring.destroy();
    dst.release();
  });
});
