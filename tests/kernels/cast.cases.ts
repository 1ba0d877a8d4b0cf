// f32 ↔ f16 conversion against the CPU's round-to-nearest-even (src/io/half.ts): bit-exact, over
// normal values, values near the f16 maximum, subnormals, and a length that is not a multiple of 2.
// (Values beyond f16's range convert to an indeterminate value in WGSL, so none are tested.)
import { cast } from '../../src/kernels/cast/cast.js';
import { float32ToFloat16Array } from '../../src/io/half.js';
import { assertClose } from '../helpers/compare.js';
import { readAsF32, roundToF16, uploadAs } from '../helpers/f16.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { randomArray } from '../helpers/random.js';

function values(n: number): Float32Array {
  const x = randomArray(n, 17, -3, 3);
  for (let i = 0; i < n; i += 7) x[i] *= 1e-6; // f16 subnormals
  for (let i = 3; i < n; i += 11) x[i] *= 2e4; // up to ±60000 (f16 max 65504, step 32)
  return x;
}

export const cases: KernelCase[] = [
  {
    name: 'cast f32 → f16 → f32 (n = 1001): bit-exact rounding',
    async run(gpu) {
      if (!gpu.features.f16) return; // no f16 storage on this adapter (SwiftShader in Chromium)
      const x = values(1001);
      const t = gpu.upload(x, [1001]);
      const h = cast(gpu, t, 'f16');
      const bits = new Uint16Array(await gpu.readRaw(h));
      const want = float32ToFloat16Array(x);
      // Subnormals may be flushed to zero by a driver; every other value must match bit for bit.
      for (let i = 0; i < want.length; i++) {
        const sub = (want[i] & 0x7c00) === 0 && (want[i] & 0x3ff) !== 0;
        if (bits[i] !== want[i] && !(sub && (bits[i] & 0x7fff) === 0)) {
          throw new Error(`cast f32→f16: element ${i} (${x[i]}) gave 0x${bits[i].toString(16)}, want 0x${want[i].toString(16)}`);
        }
      }
      const back = cast(gpu, h, 'f32');
      assertClose('cast f16→f32', await gpu.read(back), roundToF16(x), { atol: 1e-7 });
      const h2 = uploadAs(gpu, x, [1001], 'f16');
      assertClose('cast f16→f32 of an upload', await readAsF32(gpu, cast(gpu, h2, 'f32')), roundToF16(x), { atol: 1e-7 });
      for (const u of [t, h, back, h2]) u.release();
    },
  },
];
