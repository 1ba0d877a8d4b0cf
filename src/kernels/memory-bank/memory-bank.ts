// Launchers for the memory-bank kernels (see memory-bank.wgsl.ts).
import type { Gpu } from '../../runtime/gpu.js';
import type { GpuTensor } from '../../runtime/tensor.js';
import { uniforms } from '../../runtime/uniforms.js';
import { check, dispatch1d, type KernelProgram } from '../program.js';
import { bf16StoreSource, gatherSource } from './memory-bank.wgsl.js';

const WG = 256;

/** Rounds `src` (f32, even length) to bf16 and writes it packed into `bank` (u32) at word `dstOffsetWords`. */
export function bf16StoreProgram(src: GpuTensor, bank: GpuTensor, dstOffsetWords: number): KernelProgram {
  const name = 'memory-bank-bf16store-f32';
  check(src.dtype === 'f32' && bank.dtype === 'u32', name, 'src must be f32 and bank u32');
  check(src.size % 2 === 0, name, `element count ${src.size} must be even`);
  check(dstOffsetWords + src.size / 2 <= bank.size, name, 'slot lies outside the bank');
  return {
    name,
    source: bf16StoreSource,
    constants: { WG },
    bindings: [src, bank],
    uniforms: uniforms([['u32', src.size], ['u32', dstOffsetWords], ['u32', 0], ['u32', 0]]),
    workgroups: dispatch1d(src.size / 2, WG),
    bytes: src.size * 6,
  };
}

export function bf16Store(gpu: Gpu, src: GpuTensor, bank: GpuTensor, dstOffsetWords: number): void {
  gpu.run(bf16StoreProgram(src, bank, dstOffsetWords));
}

export interface GatherArgs {
  bank: GpuTensor; // u32 packed bf16, slots of hw*d values
  /** u32: [slot, tposIndex] per spatial memory, then the pointer-store row of each pointer. */
  table: GpuTensor;
  maskmemPos: GpuTensor; // [hw, d]
  tposEnc: GpuTensor; // [numMaskmem, d]
  ptrStore: GpuTensor; // [rows, c]
  ptrPos: GpuTensor; // [>= nPtr, d]
  hw: number;
  d: number;
  c: number;
  nSpatial: number;
  nPtr: number;
}

/** Output rows: nSpatial*hw spatial tokens then nPtr*(c/d) pointer tokens. */
export function gatherMemoryProgram(a: GatherArgs, memory: GpuTensor, memoryPos: GpuTensor): KernelProgram {
  const name = 'memory-bank-gather-f32';
  const split = a.c / a.d;
  check(Number.isInteger(split), name, `pointer dim ${a.c} is not a multiple of memory dim ${a.d}`);
  const rows = a.nSpatial * a.hw + a.nPtr * split;
  check(memory.size === rows * a.d && memoryPos.size === rows * a.d, name, `outputs must hold ${rows}x${a.d}`);
  check(a.table.size >= 2 * a.nSpatial + a.nPtr, name, 'table too short');
  const total = rows * a.d;
  return {
    name,
    source: gatherSource,
    constants: { WG },
    bindings: [a.bank, a.table, a.maskmemPos, a.tposEnc, a.ptrStore, a.ptrPos, memory, memoryPos],
    uniforms: uniforms([
      ['u32', a.hw], ['u32', a.d], ['u32', a.nSpatial], ['u32', a.nPtr],
      ['u32', split], ['u32', a.c], ['u32', (a.hw * a.d) / 2], ['u32', total],
    ]),
    workgroups: dispatch1d(Math.max(total, 1), WG),
    bytes: total * 10,
  };
}
