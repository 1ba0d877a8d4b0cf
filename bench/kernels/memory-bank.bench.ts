// Memory-bank kernels (src/kernels/memory-bank): storing a new memory as bf16 and gathering the full
// bank (7 spatial memories of F² tokens × 64 + 16 object pointers) into memory-attention keys.
import { bf16Store, gatherMemoryProgram } from '../../src/kernels/memory-bank/memory-bank.js';
import { atSizes, type BenchCase } from '../lib/bench-case.js';
import { randomTensor, randomValues, releaseAll } from '../lib/tensors.js';

const SIZES: Array<512 | 1024> = [512, 1024];
const D = 64; // memory channels
const C = 256; // object-pointer channels
const SLOTS = 8; // spatial memories kept (7 used + the one being written)
const SPATIAL = 7;
const POINTERS = 16;

export const benches: BenchCase[] = [
  ...atSizes(SIZES, (s) => {
    const hw = (s / 16) ** 2;
    return {
      name: `memory-bank bf16 store maskmem ${hw}x${D}`,
      setup(gpu) {
        const src = randomTensor(gpu, [hw, D], 21);
        const bank = gpu.empty([(SLOTS * hw * D) / 2], 'u32', 'bank');
        return { launch: () => bf16Store(gpu, src, bank, (3 * hw * D) / 2), release: () => releaseAll(src, bank) };
      },
    };
  }),
  ...atSizes(SIZES, (s) => {
    const hw = (s / 16) ** 2;
    const rows = SPATIAL * hw + POINTERS * (C / D);
    return {
      name: `memory-bank gather full bank ${rows}x${D}`,
      setup(gpu) {
        const words = new Uint32Array(randomValues((SLOTS * hw * D) / 2, 22).buffer).map((w) => w & 0x3fff3fff); // finite bf16 pairs
        const table = new Uint32Array([
          ...Array.from({ length: SPATIAL }, (_, i) => [i + 1, 6 - i]).flat(),
          ...Array.from({ length: POINTERS }, (_, i) => i),
        ]);
        const args = {
          bank: gpu.upload(words, [words.length], 'u32', 'bank'),
          table: gpu.upload(table, [table.length], 'u32', 'table'),
          maskmemPos: randomTensor(gpu, [hw, D], 23),
          tposEnc: randomTensor(gpu, [7, D], 24),
          ptrStore: randomTensor(gpu, [POINTERS, C], 25),
          ptrPos: randomTensor(gpu, [POINTERS, D], 26),
          hw,
          d: D,
          c: C,
          nSpatial: SPATIAL,
          nPtr: POINTERS,
        };
        const memory = gpu.empty([rows, D], 'f32', 'memory');
        const memoryPos = gpu.empty([rows, D], 'f32', 'memory-pos');
        const program = () => gatherMemoryProgram(args, memory, memoryPos);
        return {
          launch: () => gpu.run(program()),
          release: () => releaseAll(args.bank, args.table, args.maskmemPos, args.tposEnc, args.ptrStore, args.ptrPos, memory, memoryPos),
        };
      },
    };
  }),
];
