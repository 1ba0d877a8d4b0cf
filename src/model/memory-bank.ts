// The memory bank of one tracked object, resident on the GPU: conditioning and recent memories
// (bf16, as the official predictor stores `maskmem_features`), object pointers, and the per-frame
// assembly of memory tokens + positional encodings for memory attention
// (the concat half of upstream SAM2Base._prepare_memory_conditioned_features).
//
// Memories live in slots of a slab that only grows while the bank fills up; eviction keeps what any
// later query can reach (the last num_maskmem-1 frames around the tracking front and around every
// conditioning frame), so a long propagation reuses slots and allocates nothing per slice.
import { gatherMemoryProgram, bf16Store } from '../kernels/memory-bank/memory-bank.js';
import type { Gpu } from '../runtime/gpu.js';
import type { GpuTensor } from '../runtime/tensor.js';
import type { Sam2Config } from './config.js';
import { selectMemories, type MemorySelection, type MemorySelectionConfig } from './memory-selection.js';
import { sine1dF32, temporalPositionF32 } from '../kernels/position/position-f32.js';
import type { WeightScope } from './weights.js';

export interface AssembledMemory {
  memory: GpuTensor; // [M, memDim]
  memoryPos: GpuTensor; // [M, memDim]
  numObjPtrTokens: number;
  selection: MemorySelection;
}

/** What `MemoryBank.plan` decided for a frame: the selection and the size of its assembly. */
export interface MemoryPlan {
  selection: MemorySelection;
  /** Memory tokens: spatial memories × F·F + pointer tokens. */
  rows: number;
  numObjPtrTokens: number;
}

export function memorySelectionConfig(cfg: Sam2Config): MemorySelectionConfig {
  return {
    numMaskmem: cfg.numMaskmem,
    maxCondFramesInAttn: cfg.flags.maxCondFramesInAttn,
    memoryTemporalStride: cfg.flags.memoryTemporalStrideForEval,
    useObjPtrsInEncoder: cfg.flags.useObjPtrsInEncoder,
    maxObjPtrsInEncoder: cfg.maxObjPtrsInEncoder,
    onlyObjPtrsInThePastForEval: cfg.flags.onlyObjPtrsInThePastForEval,
    useSignedTposEncToObjPtrs: cfg.flags.useSignedTposEncToObjPtrs,
  };
}

/** Shared, read-only inputs of every object's bank (built once per model and size). */
export interface MemoryBankShared {
  /** Sine PE of the memory grid, [F*F, memDim]. */
  maskmemPos: GpuTensor;
  /** `maskmem_tpos_enc` as [numMaskmem, memDim]. */
  tposEnc: GpuTensor;
  /** `obj_ptr_tpos_proj` weight [memDim, C] and bias on the host (a few pointers per frame). */
  ptrProjW: Float32Array | null;
  ptrProjB: Float32Array | null;
}

export function memoryBankShared(gpu: Gpu, cfg: Sam2Config, root: WeightScope, maskmemPos: GpuTensor): MemoryBankShared {
  const memDim = cfg.memDim;
  const tposEnc = root.tensor('maskmem_tpos_enc').reshape([cfg.numMaskmem, memDim]);
  const proj = cfg.flags.addTposEncToObjPtrs && cfg.flags.projTposEncInObjPtrs;
  return {
    maskmemPos,
    tposEnc,
    ptrProjW: proj ? root.host('obj_ptr_tpos_proj.weight') : null,
    ptrProjB: proj ? root.host('obj_ptr_tpos_proj.bias') : null,
  };
}

export class MemoryBank {
  private slab: GpuTensor;
  private slotCount: number;
  private readonly freeSlots: number[] = [];
  private readonly condSlots = new Map<number, number>(); // insertion order = prompting order
  private readonly nonCondSlots = new Map<number, number>();
  private readonly ptrFrames = new Set<number>();
  private readonly ptrStore: GpuTensor; // [numFrames, C]
  private readonly table: GpuTensor;
  private readonly ptrPos: GpuTensor;
  private readonly hw: number;
  private readonly memDim: number;
  private readonly hidden: number;
  private readonly selCfg: MemorySelectionConfig;
  private readonly maxPtrs: number;

  constructor(
    private readonly gpu: Gpu,
    private readonly cfg: Sam2Config,
    private readonly shared: MemoryBankShared,
    readonly numFrames: number,
  ) {
    this.hw = cfg.imageEmbeddingSize * cfg.imageEmbeddingSize;
    this.memDim = cfg.memDim;
    this.hidden = cfg.hiddenDim;
    this.selCfg = memorySelectionConfig(cfg);
    this.slotCount = cfg.numMaskmem + 1;
    this.slab = gpu.empty([this.slotCount * this.slotWords], 'u32', 'memory-bank-slab');
    for (let s = this.slotCount - 1; s >= 0; s--) this.freeSlots.push(s);
    this.ptrStore = gpu.empty([numFrames, this.hidden], 'f32', 'memory-bank-pointers');
    // Pointer count per query is bounded by the conditioning frames plus maxPtrs-1 recent ones.
    this.maxPtrs = Math.min(numFrames, cfg.maxObjPtrsInEncoder);
    this.table = gpu.empty([this.tableCapacity], 'u32', 'memory-bank-table');
    this.ptrPos = gpu.empty([this.tableCapacity, this.memDim], 'f32', 'memory-bank-ptr-pos');
  }

  private get slotWords(): number {
    return (this.hw * this.memDim) / 2;
  }

  private get tableCapacity(): number {
    return 2 * (64 + this.cfg.numMaskmem) + 64 + this.maxPtrs;
  }

  get condFrames(): number[] {
    return [...this.condSlots.keys()];
  }

  hasCond(frame: number): boolean {
    return this.condSlots.has(frame);
  }

  hasNonCond(frame: number): boolean {
    return this.nonCondSlots.has(frame) || (this.ptrFrames.has(frame) && !this.condSlots.has(frame));
  }

  /** Slots allocated so far (the bank is "full" once this stops growing). */
  get capacity(): number {
    return this.slotCount;
  }

  private takeSlot(): number {
    const s = this.freeSlots.pop();
    if (s !== undefined) return s;
    // Grow the slab (only while the bank fills up): copy the old slots into a bigger one.
    const grown = this.gpu.empty([this.slotCount * 2 * this.slotWords], 'u32', 'memory-bank-slab');
    this.gpu.recorder
      .commandEncoder()
      .copyBufferToBuffer(this.slab.buffer, 0, grown.buffer, 0, this.slotCount * this.slotWords * 4);
    this.slab.release();
    this.slab = grown;
    for (let k = this.slotCount * 2 - 1; k > this.slotCount; k--) this.freeSlots.push(k);
    const slot = this.slotCount;
    this.slotCount *= 2;
    return slot;
  }

  /**
   * Stores a frame's memory (f32 [F*F, memDim], rounded to bf16 here) and object pointer ([C]).
   * Conditioning frames replace any non-conditioning output of the same frame.
   */
  store(frame: number, kind: 'cond' | 'non_cond', maskmem: GpuTensor, objPtr: GpuTensor): void {
    this.put(frame, kind, maskmem, objPtr, true);
  }

  /**
   * Which frames the bank holds: conditioning frames in prompting order, non-conditioning
   * memories, and frames with only a pointer left. What `restore` needs to rebuild it elsewhere.
   */
  snapshot(): { cond: number[]; nonCond: number[]; pointers: number[] } {
    return { cond: this.condFrames, nonCond: [...this.nonCondSlots.keys()], pointers: [...this.ptrFrames] };
  }

  /** Stores a memory as `store` does, but without evicting (rebuilding a bank from a snapshot). */
  restore(frame: number, kind: 'cond' | 'non_cond', maskmem: GpuTensor, objPtr: GpuTensor): void {
    this.put(frame, kind, maskmem, objPtr, false);
  }

  /** Restores the pointer of a frame whose memory was evicted (pointers are kept for every frame). */
  restorePointer(frame: number, objPtr: GpuTensor): void {
    if (frame < 0 || frame >= this.numFrames) throw new Error(`memory bank: frame ${frame} outside 0..${this.numFrames - 1}`);
    this.gpu.recorder
      .commandEncoder()
      .copyBufferToBuffer(objPtr.buffer, objPtr.offset, this.ptrStore.buffer, frame * this.hidden * 4, this.hidden * 4);
    this.ptrFrames.add(frame);
  }

  private put(frame: number, kind: 'cond' | 'non_cond', maskmem: GpuTensor, objPtr: GpuTensor, evict: boolean): void {
    if (frame < 0 || frame >= this.numFrames) throw new Error(`memory bank: frame ${frame} outside 0..${this.numFrames - 1}`);
    const own = kind === 'cond' ? this.condSlots : this.nonCondSlots;
    const other = kind === 'cond' ? this.nonCondSlots : this.condSlots;
    const old = other.get(frame);
    if (old !== undefined) {
      other.delete(frame);
      this.freeSlots.push(old);
    }
    // Evict what no later query can reach before taking a slot, so the slab stops growing sooner.
    if (kind === 'non_cond' && evict) this.evict(frame);
    let slot = own.get(frame);
    if (slot === undefined) {
      slot = this.takeSlot();
      own.set(frame, slot);
    }
    bf16Store(this.gpu, maskmem, this.slab, slot * this.slotWords);
    this.gpu.recorder
      .commandEncoder()
      .copyBufferToBuffer(objPtr.buffer, objPtr.offset, this.ptrStore.buffer, frame * this.hidden * 4, this.hidden * 4);
    this.ptrFrames.add(frame);
  }

  /** Drops a conditioning frame (e.g. its prompts were cleared). */
  removeCond(frame: number): void {
    const s = this.condSlots.get(frame);
    if (s === undefined) return;
    this.condSlots.delete(frame);
    this.freeSlots.push(s);
    this.ptrFrames.delete(frame);
  }

  /** Forgets all non-conditioning outputs (before a fresh propagation pass). */
  clearNonCond(): void {
    for (const s of this.nonCondSlots.values()) this.freeSlots.push(s);
    this.nonCondSlots.clear();
    // The pointers of evicted memories too: they are outputs of the forgotten pass like the rest.
    for (const f of [...this.ptrFrames]) if (!this.condSlots.has(f)) this.ptrFrames.delete(f);
  }

  /**
   * A new bank holding copies of this bank's conditioning memories and pointers only (what
   * `clearNonCond` would leave), copied on the GPU in prompting order: for a propagation pass that
   * runs beside this bank's.
   */
  forkCond(): MemoryBank {
    const b = new MemoryBank(this.gpu, this.cfg, this.shared, this.numFrames);
    const bytes = this.slotWords * 4;
    const row = this.hidden * 4;
    for (const [frame, slot] of this.condSlots) {
      const s = b.takeSlot();
      b.condSlots.set(frame, s);
      const enc = this.gpu.recorder.commandEncoder();
      enc.copyBufferToBuffer(this.slab.buffer, slot * bytes, b.slab.buffer, s * bytes, bytes);
      enc.copyBufferToBuffer(this.ptrStore.buffer, frame * row, b.ptrStore.buffer, frame * row, row);
      b.ptrFrames.add(frame);
    }
    return b;
  }

  /** Keeps the memories a later query can reach: near the front just written, or near a conditioning frame. */
  private evict(front: number): void {
    const reach = (this.cfg.numMaskmem - 1) * this.cfg.flags.memoryTemporalStrideForEval + 1;
    const cond = [...this.condSlots.keys()];
    for (const [f, s] of this.nonCondSlots) {
      const nearFront = Math.abs(f - front) <= reach;
      const nearCond = cond.some((c) => Math.abs(f - c) <= reach);
      if (!nearFront && !nearCond) {
        this.nonCondSlots.delete(f);
        this.freeSlots.push(s);
      }
    }
  }

  /** Memory tokens and positions for tracking `frameIdx` (the caller releases them). */
  assemble(frameIdx: number, reverse: boolean): AssembledMemory {
    const plan = this.plan(frameIdx, reverse);
    const memory = this.gpu.empty([plan.rows, this.memDim], 'f32', 'memory');
    const memoryPos = this.gpu.empty([plan.rows, this.memDim], 'f32', 'memory_pos');
    this.gather(plan, memory, memoryPos);
    return { memory, memoryPos, numObjPtrTokens: plan.numObjPtrTokens, selection: plan.selection };
  }

  /**
   * The memories a frame attends to and the size of their assembly ([rows, memDim]), without
   * gathering them: objects whose plans have the same shape can be gathered into one batch.
   */
  plan(frameIdx: number, reverse: boolean): MemoryPlan {
    const selection = selectMemories(
      {
        frameIdx,
        reverse,
        numFrames: this.numFrames,
        condFrames: this.condFrames,
        hasNonCond: (t) => this.nonCondSlots.has(t) || (this.ptrFrames.has(t) && !this.condSlots.has(t)),
      },
      this.selCfg,
    );
    // A pointer without a stored memory (evicted) is still valid: pointers are kept for every frame.
    const spatial = selection.spatial.filter((m) => (m.kind === 'cond' ? this.condSlots : this.nonCondSlots).has(m.frame));
    const sel: MemorySelection = { ...selection, spatial };
    const split = this.hidden / this.memDim;
    const nPtr = sel.pointers.length;
    return { selection: sel, rows: spatial.length * this.hw + nPtr * split, numObjPtrTokens: nPtr * split };
  }

  /** Gathers a plan's memory tokens and positional encodings into memory / memoryPos ([rows, memDim] each). */
  gather(plan: MemoryPlan, memory: GpuTensor, memoryPos: GpuTensor): void {
    const sel = plan.selection;
    const spatial = sel.spatial;
    const nPtr = sel.pointers.length;
    const need = 2 * spatial.length + nPtr;
    if (need > this.tableCapacity) throw new Error(`memory bank: ${need} table entries exceed capacity ${this.tableCapacity}`);
    for (const t of [memory, memoryPos]) {
      if (t.size !== plan.rows * this.memDim) throw new Error(`memory bank: ${t.label} holds ${t.size} values, the plan needs ${plan.rows} × ${this.memDim}`);
    }
    const table = new Uint32Array(this.tableCapacity);
    spatial.forEach((m, i) => {
      table[2 * i] = (m.kind === 'cond' ? this.condSlots : this.nonCondSlots).get(m.frame)!;
      table[2 * i + 1] = m.tposIndex;
    });
    sel.pointers.forEach((p, i) => (table[2 * spatial.length + i] = p.frame));
    this.gpu.write(this.table, table);
    if (nPtr > 0) this.gpu.write(this.ptrPos, this.pointerPositions(sel));
    this.gpu.run(
      gatherMemoryProgram(
        {
          bank: this.slab,
          table: this.table,
          maskmemPos: this.shared.maskmemPos,
          tposEnc: this.shared.tposEnc,
          ptrStore: this.ptrStore,
          ptrPos: this.ptrPos,
          hw: this.hw,
          d: this.memDim,
          c: this.hidden,
          nSpatial: spatial.length,
          nPtr,
        },
        memory,
        memoryPos,
      ),
    );
  }

  /** Temporal encodings of the selected pointers: obj_ptr_tpos_proj(sine1d(tpos / tDiffMax, C)), in f32. */
  private pointerPositions(sel: MemorySelection): Float32Array {
    const d = this.memDim;
    const out = new Float32Array(this.tableCapacity * d);
    const { ptrProjW: w, ptrProjB: b } = this.shared;
    if (!this.cfg.flags.addTposEncToObjPtrs) return out; // SAM 2.0: zeros
    const dim = this.cfg.flags.projTposEncInObjPtrs ? this.hidden : d;
    sel.pointers.forEach((p, i) => {
      const pe = sine1dF32([temporalPositionF32(p.tpos, sel.tDiffMax)], dim);
      if (!w || !b) {
        out.set(pe.subarray(0, d), i * d);
        return;
      }
      for (let o = 0; o < d; o++) {
        let acc = 0;
        for (let k = 0; k < dim; k++) acc += w[o * dim + k] * pe[k];
        out[i * d + o] = Math.fround(acc + b[o]);
      }
    });
    return out;
  }

  release(): void {
    this.slab.release();
    this.ptrStore.release();
    this.table.release();
    this.ptrPos.release();
  }
}
