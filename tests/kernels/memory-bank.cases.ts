import { bf16Store, gatherMemoryProgram } from '../../src/kernels/memory-bank/memory-bank.js';
import { bf16RoundRef } from '../../src/kernels/memory-bank/memory-bank.ref.js';
import { assertClose } from '../helpers/compare.js';
import type { KernelCase } from '../helpers/kernel-case.js';
import { nanArray, randomArray, rng } from '../helpers/random.js';

const bf16Case = (n: number, slotWords: number, offsetSlot: number): KernelCase => ({
  name: `bf16 store n=${n} into slot ${offsetSlot}`,
  async run(gpu) {
    // Values spanning many binades plus exact halfway cases (ties to even).
    const src = randomArray(n, n + 5, -50, 50);
    src[0] = 1 + 2 ** -8; // halfway between two bf16 values: rounds to even (1.0)
    src[1] = 1 + 3 * 2 ** -8; // halfway: rounds up to even
    const bankWords = slotWords * (offsetSlot + 2);
    const bank = gpu.upload(new Uint32Array(bankWords).fill(0xdeadbeef), [bankWords], 'u32');
    const t = gpu.upload(src, [n]);
    bf16Store(gpu, t, bank, offsetSlot * slotWords);
    const words = new Uint32Array(await gpu.readRaw(bank));
    const got = new Float32Array(n);
    const u = new Uint32Array(got.buffer);
    for (let i = 0; i < n; i++) {
      const w = words[offsetSlot * slotWords + (i >> 1)];
      u[i] = ((i & 1 ? w >>> 16 : w & 0xffff) << 16) >>> 0;
    }
    assertClose('bf16 store', got, Float64Array.from(src, bf16RoundRef), { atol: 0 });
    if (words[offsetSlot * slotWords - 1] !== 0xdeadbeef) throw new Error('bf16 store wrote before its slot');
    if (words[offsetSlot * slotWords + n / 2] !== 0xdeadbeef) throw new Error('bf16 store wrote past its slot');
    [bank, t].forEach((x) => x.release());
  },
});

const gatherCase = (hw: number, d: number, c: number, nSlots: number, nSpatial: number, nPtr: number): KernelCase => ({
  name: `gather hw=${hw} d=${d} c=${c} spatial=${nSpatial} ptr=${nPtr}`,
  async run(gpu) {
    const r = rng(hw * 31 + nPtr);
    const slotVals = hw * d;
    const bankWords = new Uint32Array((nSlots * slotVals) / 2);
    for (let i = 0; i < bankWords.length; i++) bankWords[i] = Math.floor(r() * 2 ** 32) & 0x3fff3fff; // finite bf16 pairs
    const maskmemPos = randomArray(hw * d, 3);
    const tposEnc = randomArray(7 * d, 4);
    const ptrRows = 20;
    const ptrStore = randomArray(ptrRows * c, 5);
    const ptrPos = randomArray(Math.max(nPtr, 1) * d, 6);
    const slots = Array.from({ length: nSpatial }, (_, i) => (i * 3 + 1) % nSlots);
    const tpos = Array.from({ length: nSpatial }, (_, i) => (i * 5 + 2) % 7);
    const ptrIdx = Array.from({ length: nPtr }, (_, i) => (i * 7 + 3) % ptrRows);
    const table = new Uint32Array([...slots.flatMap((s, i) => [s, tpos[i]]), ...ptrIdx, 0]);
    const split = c / d;
    const rows = nSpatial * hw + nPtr * split;
    const refMem = new Float64Array(rows * d);
    const refPos = new Float64Array(rows * d);
    const bf = (slot: number, e: number) => {
      const w = bankWords[(slot * slotVals + e) >> 1];
      const bits = ((e & 1 ? w >>> 16 : w & 0xffff) << 16) >>> 0;
      return new Float32Array(new Uint32Array([bits]).buffer)[0];
    };
    for (let row = 0; row < rows; row++)
      for (let ch = 0; ch < d; ch++) {
        const i = row * d + ch;
        if (row < nSpatial * hw) {
          const m = Math.floor(row / hw);
          const t = row % hw;
          refMem[i] = bf(slots[m], t * d + ch);
          refPos[i] = Math.fround(maskmemPos[t * d + ch] + tposEnc[tpos[m] * d + ch]);
        } else {
          const rr = row - nSpatial * hw;
          const p = Math.floor(rr / split);
          const j = rr % split;
          refMem[i] = ptrStore[ptrIdx[p] * c + j * d + ch];
          refPos[i] = ptrPos[p * d + ch];
        }
      }
    const tensors = {
      bank: gpu.upload(bankWords, [bankWords.length], 'u32'),
      table: gpu.upload(table, [table.length], 'u32'),
      maskmemPos: gpu.upload(maskmemPos, [hw, d]),
      tposEnc: gpu.upload(tposEnc, [7, d]),
      ptrStore: gpu.upload(ptrStore, [ptrRows, c]),
      ptrPos: gpu.upload(ptrPos, [Math.max(nPtr, 1), d]),
    };
    const mem = gpu.upload(nanArray(rows * d), [rows, d]);
    const pos = gpu.upload(nanArray(rows * d), [rows, d]);
    gpu.run(gatherMemoryProgram({ ...tensors, hw, d, c, nSpatial, nPtr }, mem, pos));
    assertClose('memory', await gpu.read(mem), refMem, { atol: 0 }, [rows, d]);
    assertClose('memory_pos', await gpu.read(pos), refPos, { atol: 0 }, [rows, d]);
    [...Object.values(tensors), mem, pos].forEach((x) => x.release());
  },
});

export const cases: KernelCase[] = [
  bf16Case(2, 2, 1),
  bf16Case(16 * 16 * 16, 16 * 16 * 8, 3),
  bf16Case(1026, 520, 2),
  gatherCase(256, 16, 64, 8, 5, 4),
  gatherCase(9, 6, 18, 3, 2, 3),
  gatherCase(1024, 64, 256, 8, 7, 0),
  gatherCase(25, 8, 8, 4, 1, 5),
];
