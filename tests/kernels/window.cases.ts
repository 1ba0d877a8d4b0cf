import {
  maxPool2x2,
  nchwToNhwc,
  nhwcToNchw,
  windowPartition,
  windowUnpartition,
  type PixelView,
} from '../../src/kernels/window/window.js';
import { maxPool2x2Ref, transposeRef, windowPartitionRef, windowUnpartitionRef } from '../../src/kernels/window/window.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray } from '../helpers/random.js';

// Layout ops copy (or take the max of) values: results must be bit-exact.
const EXACT = { atol: 0, rtol: 0 };

const partitionCase = (b: number, h: number, w: number, c: number, win: number, note = ''): KernelCase => ({
  name: `partition + unpartition [${b}, ${h}, ${w}, ${c}] window ${win}${note}`,
  async run(gpu) {
    const nwy = Math.ceil(h / win);
    const nwx = Math.ceil(w / win);
    const host = randomArray(b * h * w * c, h * w + c);
    const x = gpu.upload(host, b === 1 ? [h, w, c] : [b, h, w, c]);
    const windows = gpu.upload(nanArray(b * nwy * nwx * win * win * c), [b * nwy * nwx, win, win, c]);
    windowPartition(gpu, x, win, windows);
    const got = await gpu.read(windows);
    assertClose('partition', got, windowPartitionRef(host, b, h, w, c, win), EXACT, windows.shape);
    // Unpartition of random windows (padding slots hold data that must be cropped away).
    const winHost = randomArray(windows.size, 5 + c);
    gpu.write(windows, winHost);
    const back = gpu.upload(nanArray(b * h * w * c), [b, h, w, c]);
    windowUnpartition(gpu, windows, h, w, back);
    assertClose('unpartition', await gpu.read(back), windowUnpartitionRef(winHost, b, h, w, c, win), EXACT, back.shape);
    [x, windows, back].forEach((t) => t.release());
  },
});

const roundTripCase: KernelCase = {
  name: 'unpartition(partition(x)) == x with padding (64×64 → 70×70, window 14, 96 ch)',
  async run(gpu) {
    const host = randomArray(64 * 64 * 96, 11);
    const x = gpu.upload(host, [1, 64, 64, 96]);
    const windows = gpu.upload(nanArray(25 * 14 * 14 * 96), [25, 14, 14, 96]);
    windowPartition(gpu, x, 14, windows);
    const back = gpu.upload(nanArray(host.length), [1, 64, 64, 96]);
    windowUnpartition(gpu, windows, 64, 64, back);
    assertClose('round trip', await gpu.read(back), host, EXACT, back.shape);
    [x, windows, back].forEach((t) => t.release());
  },
};

const poolCase = (v: PixelView, size: number, name: string): KernelCase => ({
  name,
  async run(gpu) {
    const host = randomArray(size, size % 1000);
    const x = gpu.upload(host, [size]);
    const ho = Math.floor(v.height / 2);
    const wo = Math.floor(v.width / 2);
    const out = gpu.upload(nanArray(v.batch * ho * wo * v.channels), [v.batch, ho, wo, v.channels]);
    maxPool2x2(gpu, x, out, v);
    assertClose(name, await gpu.read(out), maxPool2x2Ref(host, v), EXACT, out.shape);
    [x, out].forEach((t) => t.release());
  },
});

const plainPoolCase: KernelCase = {
  name: 'maxpool2x2 on a plain [2, 13, 10, 7] tensor (odd H dropped)',
  async run(gpu) {
    const host = randomArray(2 * 13 * 10 * 7, 21);
    const x = gpu.upload(host, [2, 13, 10, 7]);
    const out = gpu.upload(nanArray(2 * 6 * 5 * 7), [2, 6, 5, 7]);
    maxPool2x2(gpu, x, out);
    assertClose('pool', await gpu.read(out), maxPool2x2Ref(host, { batch: 2, height: 13, width: 10, channels: 7 }), EXACT, out.shape);
    [x, out].forEach((t) => t.release());
  },
};

const permuteCase = (shape: number[]): KernelCase => ({
  name: `nchw → nhwc → nchw ${JSON.stringify(shape)}`,
  async run(gpu) {
    const n = shape.reduce((a, b) => a * b, 1);
    const [b, c, h, w] = shape.length === 4 ? shape : [1, ...shape];
    const host = randomArray(n, n % 977);
    const x = gpu.upload(host, shape);
    const nhwc = gpu.upload(nanArray(n), shape.length === 4 ? [b, h, w, c] : [h, w, c]);
    nchwToNhwc(gpu, x, nhwc);
    const got = await gpu.read(nhwc);
    assertClose('nchw→nhwc', got, transposeRef(host, b, c, h * w), EXACT, nhwc.shape);
    const back = gpu.upload(nanArray(n), shape);
    nhwcToNchw(gpu, nhwc, back);
    assertClose('nhwc→nchw', await gpu.read(back), host, EXACT, shape);
    [x, nhwc, back].forEach((t) => t.release());
  },
});

const rejects: KernelCase = {
  name: 'rejects inconsistent shapes with clear errors',
  async run(gpu) {
    const x = gpu.upload(randomArray(4 * 9 * 11 * 3, 2), [4, 9, 11, 3]);
    const expectThrow = (what: string, f: () => unknown, pattern: RegExp) => {
      try {
        f();
      } catch (e) {
        if (!pattern.test((e as Error).message)) throw new Error(`${what}: unexpected message "${(e as Error).message}"`);
        return;
      }
      throw new Error(`${what}: no error thrown`);
    };
    expectThrow('rank', () => windowPartition(gpu, x.reshape([4 * 9, 11, 3, 1, 1]), 4), /expected \[B\?, H, W, C\]/);
    expectThrow('wrong out', () => windowPartition(gpu, x, 4, x), /must hold \[36, 4, 4, 3\]/);
    const fiveWindows = gpu.upload(randomArray(5 * 4 * 4 * 3, 3), [5, 4, 4, 3]);
    expectThrow('window count', () => windowUnpartition(gpu, fiveWindows, 9, 11), /5 windows is not a multiple of the 3×3/);
    fiveWindows.release();
    expectThrow('pool view', () => maxPool2x2(gpu, x, undefined, { batch: 4, height: 9, width: 11, channels: 3, offset: 1 }), /reaches element/);
    x.release();
  },
};

export const cases: KernelCase[] = [
  partitionCase(1, 9, 11, 5, 4, ' (padding on both sides)'),
  partitionCase(3, 7, 7, 3, 7, ' (B > 1, no padding)'),
  partitionCase(2, 5, 3, 6, 4, ' (one window wider than the map)'),
  partitionCase(1, 64, 64, 384, 14, ' (Hiera-T stage 3 at 1024 px: 70×70, 25 windows)'),
  partitionCase(1, 32, 32, 768, 7, ' (stage 4: 35×35)'),
  partitionCase(1, 256, 256, 96, 8, ' (stage 1: 1024 windows)'),
  roundTripCase,
  // q-pool inside the windows: q slice of a fused qkv [windows, w, w, 3C].
  poolCase({ batch: 25, height: 14, width: 14, channels: 96, offset: 0, pixelStride: 288 }, 25 * 14 * 14 * 288, 'maxpool2x2 of the q slice of fused qkv [25, 14, 14, 3·96]'),
  poolCase({ batch: 3, height: 9, width: 11, channels: 5, offset: 6, pixelStride: 17, batchStride: 9 * 11 * 17 + 4 }, 6 + 3 * (9 * 11 * 17 + 4), 'maxpool2x2 odd 9×11, channel offset, padded strides'),
  poolCase({ batch: 1, height: 256, width: 256, channels: 96 }, 256 * 256 * 96, 'maxpool2x2 Hiera shortcut 256×256×96 → 128×128'),
  plainPoolCase,
  permuteCase([3, 5, 7]),
  permuteCase([2, 17, 9, 13]),
  permuteCase([1, 256, 64, 64]),
  rejects,
];
