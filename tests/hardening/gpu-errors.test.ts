// GPU errors are never silent (issue 13, item 1): a failed allocation, an invalid submit or a lost
// device fails the run with the tensor or kernels named, and no readback after the error returns
// data. Each test uses its own device: a failed device stays failed.
import { afterEach, describe, expect, it } from 'vitest';
import { binary } from '../../src/kernels/elementwise/elementwise.js';
import { Gpu } from '../../src/runtime/gpu.js';
import { faultsFromEnv, GpuDeviceLostError, GpuError } from '../../src/runtime/gpu-errors.js';

const made: Gpu[] = [];
async function freshGpu(): Promise<Gpu> {
  const g = await Gpu.create();
  made.push(g);
  return g;
}
afterEach(() => {
  for (const g of made.splice(0)) g.destroy();
});

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => ((i * 37 + seed) % 101) - 50.5);

describe('GPU errors', () => {
  it('a failed allocation fails the readback that would have returned the previous tensor\'s data', async () => {
    const gpu = await freshGpu();
    const a = gpu.upload(values(300, 1), [300], 'f32', 'first');
    expect(await gpu.read(a)).toEqual(values(300, 1)); // the staging buffer of this size now holds `first`
    gpu.errors.inject({ failAllocation: 1 });
    const b = gpu.upload(values(300, 2), [300], 'f32', 'second'); // a new buffer, which fails
    const c = gpu.empty([300], 'f32', 'sum');
    binary(gpu, 'add', b, b, c);
    const read = gpu.read(c);
    await expect(read).rejects.toThrow(GpuError);
    await expect(read).rejects.toThrow(/GPU out of memory allocating tensor "second" \(1\.3 KiB\)/);
    // Every later call fails the same way instead of recording work on a broken device.
    expect(() => gpu.upload(values(4, 3), [4])).toThrow(/GPU out of memory allocating tensor "second"/);
    await expect(gpu.sync()).rejects.toThrow(/out of memory/);
  });

  it('an invalid submit names its kernels', async () => {
    const gpu = await freshGpu();
    const a = gpu.upload(values(64, 1), [64], 'f32', 'a');
    const out = gpu.empty([64], 'f32', 'out');
    a.buffer.destroy(); // any later use of `a` is a validation error of the submit that uses it
    binary(gpu, 'mul', a, a, out);
    const err = await gpu.read(out).then(
      () => null,
      (e: unknown) => e as GpuError,
    );
    expect(err).toBeInstanceOf(GpuError);
    expect(err!.kind).toBe('validation');
    expect(err!.message).toMatch(/GPU validation error in submit \d+ \(kernels elementwise-mul-f32\)/);
  });

  it('device loss gives "GPU device lost: <reason>", and later calls say so too', async () => {
    const gpu = await freshGpu();
    const a = gpu.upload(values(16, 1), [16], 'f32', 'a');
    gpu.device.destroy();
    await expect(gpu.read(a)).rejects.toThrow(GpuDeviceLostError);
    await expect(gpu.read(a)).rejects.toThrow(/^GPU device lost: destroyed/);
    // upload() after a loss used to be a silent no-op
    expect(() => gpu.upload(values(4, 1), [4])).toThrow(/^GPU device lost: destroyed/);
    expect(() => binary(gpu, 'add', a, a)).toThrow(/^GPU device lost/);
  });

  it('a device loss injected after N submits surfaces at the next readback', async () => {
    const gpu = await freshGpu();
    gpu.errors.inject({ loseDeviceAfterSubmits: 2 });
    const a = gpu.upload(values(16, 1), [16], 'f32', 'a');
    expect(await gpu.read(a)).toEqual(values(16, 1)); // submit 1
    await expect(gpu.read(binary(gpu, 'add', a, a))).rejects.toThrow(/^GPU device lost: destroyed/); // submit 2 then loss
  });

  it('reads SAM2_GPU_FAULT for end-to-end tests', () => {
    expect(faultsFromEnv(undefined)).toBeUndefined();
    expect(faultsFromEnv('oom:3')).toEqual({ failAllocation: 3 });
    expect(faultsFromEnv('lost:12')).toEqual({ loseDeviceAfterSubmits: 12 });
    expect(() => faultsFromEnv('boom')).toThrow(/SAM2_GPU_FAULT must be "oom:N" or "lost:N"/);
  });
});
