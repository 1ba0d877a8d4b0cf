// The memory composition of every tracked frame recorded by the fixtures (video passes and the
// image fixtures' constructed banks) must be reproduced exactly by selectMemories.
import { describe, expect, it } from 'vitest';
import { selectMemories, type MemorySelectionConfig } from '../../src/model/memory-selection.js';
import { discoverFixtures, type FixtureJson } from '../parity/fixture.js';

function selectionConfig(json: FixtureJson): MemorySelectionConfig {
  const d = json.model.derived;
  const f = d.flags;
  return {
    numMaskmem: d.num_maskmem,
    maxCondFramesInAttn: f.max_cond_frames_in_attn,
    memoryTemporalStride: f.memory_temporal_stride_for_eval,
    useObjPtrsInEncoder: f.use_obj_ptrs_in_encoder,
    maxObjPtrsInEncoder: d.max_obj_ptrs_in_encoder,
    onlyObjPtrsInThePastForEval: f.only_obj_ptrs_in_the_past_for_eval,
    useSignedTposEncToObjPtrs: f.use_signed_tpos_enc_to_obj_ptrs,
  };
}

const strip = (s: { frame: number; kind: string; tpos_index?: number; tpos?: number }) => s;

describe('memory selection matches the fixtures', () => {
  for (const fx of discoverFixtures('video')) {
    const cfg = selectionConfig(fx.json);
    for (const [pass, p] of Object.entries(fx.json.passes ?? {})) {
      const comp = (p as any).memory_composition_per_frame as Record<string, any>;
      const objKeys = Object.keys(p as object).filter((k) => k !== 'memory_composition_per_frame');
      const condFrames: number[] = (p as any)[objKeys[0]].cond_frames;
      it(`${fx.name} ${pass}: ${Object.keys(comp).length} tracked frames`, () => {
        const numFrames = fx.json.input.num_frames;
        // Integer-like keys iterate in ascending order in JS: replay in tracking order instead.
        const frames = (Object.values(comp) as any[]).sort((a, b) =>
          a.track_in_reverse ? b.query_frame_idx - a.query_frame_idx : a.query_frame_idx - b.query_frame_idx,
        );
        const order = frames.map((c) => c.query_frame_idx as number);
        const tracked = new Set<number>();
        for (const c of frames) {
          const sel = selectMemories(
            { frameIdx: c.query_frame_idx, reverse: c.track_in_reverse, numFrames, condFrames, hasNonCond: (t) => tracked.has(t) },
            cfg,
          );
          expect(sel.spatial.map((s) => ({ frame: s.frame, kind: s.kind, tpos_index: s.tposIndex }))).toEqual(
            c.spatial_memories_in_order.map((s: any) => ({ frame: s.frame, kind: s.kind, tpos_index: s.tpos_index })),
          );
          expect(sel.pointers.map((s) => ({ frame: s.frame, kind: s.kind, tpos: s.tpos }))).toEqual(
            c.object_pointers_in_order.map((s: any) => strip({ frame: s.frame, kind: s.kind, tpos: s.tpos })),
          );
          expect(sel.tDiffMax).toBe(c.t_diff_max);
          tracked.add(c.query_frame_idx);
        }
        expect(order.length).toBeGreaterThan(0);
      });
    }
  }
  for (const fx of discoverFixtures('image')) {
    const cfg = selectionConfig(fx.json);
    for (const [bank, b] of Object.entries(fx.json.memattn_banks ?? {}) as Array<[string, any]>) {
      it(`${fx.name} bank ${bank}`, () => {
        const cond = b.spatial_memories_in_order.filter((s: any) => s.kind === 'cond').map((s: any) => s.frame);
        const nonCond = new Set<number>(
          [...b.spatial_memories_in_order, ...b.object_pointers_in_order].filter((s: any) => s.kind === 'non_cond').map((s: any) => s.frame),
        );
        const sel = selectMemories(
          { frameIdx: b.query_frame_idx, reverse: b.track_in_reverse, numFrames: b.num_frames, condFrames: cond, hasNonCond: (t) => nonCond.has(t) },
          cfg,
        );
        expect(sel.spatial.map((s) => [s.frame, s.kind, s.tposIndex])).toEqual(
          b.spatial_memories_in_order.map((s: any) => [s.frame, s.kind, s.tpos_index]),
        );
        expect(sel.pointers.map((s) => [s.frame, s.kind, s.tpos])).toEqual(
          b.object_pointers_in_order.map((s: any) => [s.frame, s.kind, s.tpos]),
        );
        expect(sel.tDiffMax).toBe(b.t_diff_max);
      });
    }
  }
});

describe('memory selection semantics (spec worked examples)', () => {
  const cfg: MemorySelectionConfig = {
    numMaskmem: 7, maxCondFramesInAttn: -1, memoryTemporalStride: 1, useObjPtrsInEncoder: true,
    maxObjPtrsInEncoder: 16, onlyObjPtrsInThePastForEval: true, useSignedTposEncToObjPtrs: true,
  };
  const all = (t: number) => t >= 0;
  it('frame 20 with conditioning frames {0, 30}: future cond frame is a memory but gives no pointer', () => {
    const s = selectMemories({ frameIdx: 20, reverse: false, numFrames: 100, condFrames: [0, 30], hasNonCond: (t) => t > 0 && t < 20 }, cfg);
    expect(s.spatial.map((m) => `${m.frame}:${m.tposIndex}`)).toEqual(['0:6', '30:6', '14:5', '15:4', '16:3', '17:2', '18:1', '19:0']);
    expect(s.pointers.map((p) => p.frame)).toEqual([0, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5]);
  });
  it('reverse frame 5 with conditioning frame 10: signed distance', () => {
    const s = selectMemories({ frameIdx: 5, reverse: true, numFrames: 100, condFrames: [10], hasNonCond: (t) => t > 5 && t < 10 }, cfg);
    expect(s.spatial.map((m) => `${m.frame}:${m.tposIndex}`)).toEqual(['10:6', '9:3', '8:2', '7:1', '6:0']);
    expect(s.pointers.map((p) => `${p.frame}:${p.tpos}`)).toEqual(['10:5', '6:1', '7:2', '8:3', '9:4']);
  });
  it('short volume: pointer normalizer follows the slice count', () => {
    const s = selectMemories({ frameIdx: 8, reverse: false, numFrames: 10, condFrames: [0], hasNonCond: (t) => t > 0 && t < 8 && all(t) }, cfg);
    expect(s.tDiffMax).toBe(9);
    expect(s.pointers.map((p) => p.frame)).toEqual([0, 7, 6, 5, 4, 3, 2, 1]);
  });
  it('max_cond_frames_in_attn keeps the closest before and after', () => {
    const s = selectMemories({ frameIdx: 20, reverse: false, numFrames: 100, condFrames: [0, 5, 30, 50], hasNonCond: () => false }, { ...cfg, maxCondFramesInAttn: 2 });
    expect(s.spatial.map((m) => m.frame)).toEqual([5, 30]);
  });
});
