// Which memories a tracked frame attends to: the frame-selection half of upstream
// `SAM2Base._prepare_memory_conditioned_features` (sam2/modeling/sam2_base.py) and
// `select_closest_cond_frames` (sam2/modeling/sam2_utils.py). Pure logic on frame indices; the
// memory bank (memory-bank.ts) turns a selection into GPU memory tokens.

export interface MemorySelectionConfig {
  /** `num_maskmem` (7): 1 conditioning slot + up to num_maskmem-1 recent frames. */
  numMaskmem: number;
  /** `max_cond_frames_in_attn` (-1 = all conditioning frames). */
  maxCondFramesInAttn: number;
  /** `memory_temporal_stride_for_eval` (1). */
  memoryTemporalStride: number;
  useObjPtrsInEncoder: boolean;
  /** `max_obj_ptrs_in_encoder` (16); the effective bound is min(numFrames, this). */
  maxObjPtrsInEncoder: number;
  onlyObjPtrsInThePastForEval: boolean;
  /** SAM 2.1: conditioning-frame pointer distances carry the tracking direction's sign. */
  useSignedTposEncToObjPtrs: boolean;
}

export interface SpatialMemoryRef {
  frame: number;
  kind: 'cond' | 'non_cond';
  /** Index into `maskmem_tpos_enc` (num_maskmem - t_pos - 1: conditioning frames use the last entry). */
  tposIndex: number;
}

export interface PointerRef {
  frame: number;
  kind: 'cond' | 'non_cond';
  /** Temporal distance fed to the pointer's sine encoding (signed for conditioning frames in 2.1). */
  tpos: number;
}

export interface MemorySelection {
  spatial: SpatialMemoryRef[];
  pointers: PointerRef[];
  /** Normalizer of pointer distances: min(numFrames, maxObjPtrsInEncoder) - 1. */
  tDiffMax: number;
}

export interface SelectionQuery {
  frameIdx: number;
  reverse: boolean;
  numFrames: number;
  /** Conditioning (prompted) frames of this object, in insertion order. */
  condFrames: readonly number[];
  /** Whether a non-conditioning output (memory + pointer) exists for a frame. */
  hasNonCond: (frame: number) => boolean;
}

/** Upstream `select_closest_cond_frames`: the closest before, the closest at/after, then the nearest others. */
export function selectClosestCondFrames(
  frameIdx: number,
  condFrames: readonly number[],
  maxCondFrames: number,
): { selected: number[]; unselected: number[] } {
  if (maxCondFrames === -1 || condFrames.length <= maxCondFrames) return { selected: [...condFrames], unselected: [] };
  if (maxCondFrames < 2) throw new Error('max_cond_frames_in_attn must allow at least 2 conditioning frames');
  const selected: number[] = [];
  const before = condFrames.filter((t) => t < frameIdx);
  if (before.length) selected.push(Math.max(...before));
  const after = condFrames.filter((t) => t >= frameIdx);
  if (after.length) selected.push(Math.min(...after));
  const rest = condFrames
    .filter((t) => !selected.includes(t))
    .map((t, i) => ({ t, i }))
    // stable sort by distance, as Python's sorted()
    .sort((a, b) => Math.abs(a.t - frameIdx) - Math.abs(b.t - frameIdx) || a.i - b.i)
    .slice(0, maxCondFrames - selected.length)
    .map((e) => e.t);
  selected.push(...rest);
  return { selected, unselected: condFrames.filter((t) => !selected.includes(t)) };
}

export function selectMemories(q: SelectionQuery, cfg: MemorySelectionConfig): MemorySelection {
  const { frameIdx, reverse, numFrames } = q;
  const { selected, unselected } = selectClosestCondFrames(frameIdx, q.condFrames, cfg.maxCondFramesInAttn);
  const exists = (t: number): 'non_cond' | 'cond' | null =>
    q.hasNonCond(t) ? 'non_cond' : unselected.includes(t) ? 'cond' : null;

  // Spatial memories: every selected conditioning frame (t_pos 0), then the last num_maskmem-1
  // frames in tracking direction, oldest first (t_pos 1 is the furthest back). Missing ones are skipped.
  const spatial: SpatialMemoryRef[] = selected.map((frame) => ({ frame, kind: 'cond', tposIndex: cfg.numMaskmem - 1 }));
  const r = cfg.memoryTemporalStride;
  for (let tPos = 1; tPos < cfg.numMaskmem; tPos++) {
    const tRel = cfg.numMaskmem - tPos;
    let prev: number;
    if (tRel === 1) prev = reverse ? frameIdx + 1 : frameIdx - 1;
    else if (!reverse) prev = Math.floor((frameIdx - 2) / r) * r - (tRel - 2) * r;
    else prev = Math.ceil((frameIdx + 2) / r) * r + (tRel - 2) * r;
    const kind = exists(prev);
    if (kind) spatial.push({ frame: prev, kind, tposIndex: cfg.numMaskmem - tPos - 1 });
  }

  // Object pointers: conditioning frames (only those not in the future when evaluating), then
  // up to maxPtrs-1 recent frames at distance 1, 2, ... stopping at the volume's border.
  const maxPtrs = Math.min(numFrames, cfg.maxObjPtrsInEncoder);
  const pointers: PointerRef[] = [];
  if (cfg.useObjPtrsInEncoder) {
    const sign = reverse ? -1 : 1;
    const ptrCond = cfg.onlyObjPtrsInThePastForEval
      ? selected.filter((t) => (reverse ? t >= frameIdx : t <= frameIdx))
      : selected;
    for (const t of ptrCond) {
      pointers.push({ frame: t, kind: 'cond', tpos: cfg.useSignedTposEncToObjPtrs ? (frameIdx - t) * sign : Math.abs(frameIdx - t) });
    }
    for (let tDiff = 1; tDiff < maxPtrs; tDiff++) {
      const t = reverse ? frameIdx + tDiff : frameIdx - tDiff;
      if (t < 0 || t >= numFrames) break;
      const kind = exists(t);
      if (kind) pointers.push({ frame: t, kind, tpos: tDiff });
    }
  }
  return { spatial, pointers, tDiffMax: maxPtrs - 1 };
}
