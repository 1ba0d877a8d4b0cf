// What the user has segmented so far, independent of the DOM: the objects (label value = object
// id), the label volume on the page's (LPS) grid, the prompts of the current engine session and
// the undo history. Prompts are kept as one complete call per object and slice, because the
// engine takes the full prompt set of a slice each time.
import { extractSlice, insertSlice, writeMaskSlice, type Axis } from '../src/volume/slicing.js';
import type { Vec3 } from '../src/volume/volume.js';
import type { PromptCall, SliceMasks } from './protocol.js';

export type Rgb = [number, number, number];

export interface SegObject {
  id: number;
  color: Rgb;
}

/** Distinct, colour-blind-friendly-ish hues (Okabe–Ito first, then Tableau). */
export const PALETTE: readonly Rgb[] = [
  [230, 159, 0],
  [86, 180, 233],
  [0, 158, 115],
  [240, 228, 66],
  [204, 121, 167],
  [213, 94, 0],
  [0, 114, 178],
  [148, 103, 189],
  [255, 120, 120],
  [140, 220, 90],
];

/** Label maps are uint8: object ids run 1..255. */
export const MAX_OBJECTS = 255;

interface HistoryEntry {
  call: PromptCall;
  /** The object's prompts on that slice before this call (undefined: none). */
  before: PromptCall | undefined;
  /** The label slice before this call, restored by undo. */
  labelsBefore: Uint8Array;
}

export interface UndoPlan {
  axis: Axis;
  /** The call being undone. */
  undone: PromptCall;
  /** Every remaining call of the session, in the order they were made, to replay. */
  remaining: PromptCall[];
}

const keyOf = (slice: number, objId: number) => `${slice}:${objId}`;

export class Segmentation {
  readonly labels: Uint8Array;
  readonly objects: SegObject[] = [];
  activeId = 0;
  /** Axis of the current engine session (null: no session yet). */
  sessionAxis: Axis | null = null;
  private readonly prompts = new Map<string, PromptCall>();
  private history: HistoryEntry[] = [];

  constructor(readonly dims: Vec3) {
    this.labels = new Uint8Array(dims[0] * dims[1] * dims[2]);
    this.addObject();
  }

  addObject(): SegObject {
    const id = this.objects.length === 0 ? 1 : Math.max(...this.objects.map((o) => o.id)) + 1;
    if (id > MAX_OBJECTS) throw new Error(`at most ${MAX_OBJECTS} objects (the exported label map is uint8)`);
    const obj: SegObject = { id, color: PALETTE[(id - 1) % PALETTE.length] };
    this.objects.push(obj);
    this.activeId = id;
    return obj;
  }

  object(id: number): SegObject | undefined {
    return this.objects.find((o) => o.id === id);
  }

  /** Prompts of the current session on one slice (all objects). */
  promptsOn(slice: number): PromptCall[] {
    return [...this.prompts.values()].filter((c) => c.slice === slice);
  }

  get promptedSlices(): number[] {
    return [...new Set([...this.prompts.values()].map((c) => c.slice))].sort((a, b) => a - b);
  }

  get promptCount(): number {
    return this.history.length;
  }

  /** The most recent prompt call of the session, if any. */
  get lastCall(): PromptCall | undefined {
    return this.history[this.history.length - 1]?.call;
  }

  /** The call that adds a click (label 1/0) or a box to the object's prompts on `slice`. */
  nextCall(slice: number, objId: number, add: { point: [number, number]; label: number } | { box: [number, number, number, number] }): PromptCall {
    const prev = this.prompts.get(keyOf(slice, objId));
    if ('box' in add) return { slice, objId, points: [], labels: [], box: add.box };
    return {
      slice,
      objId,
      points: [...(prev?.points ?? []), add.point],
      labels: [...(prev?.labels ?? []), add.label],
      box: prev?.box,
    };
  }

  /** Records a call the engine accepted, with the label slice as it was before its result. */
  record(call: PromptCall, labelsBefore: Uint8Array): void {
    const key = keyOf(call.slice, call.objId);
    this.history.push({ call, before: this.prompts.get(key), labelsBefore });
    this.prompts.set(key, call);
  }

  /** Takes the last prompt back (prompt state and label slice); the caller replays `remaining`. */
  undo(): UndoPlan | null {
    const axis = this.sessionAxis;
    const last = this.history.pop();
    if (!last || !axis) return null;
    const key = keyOf(last.call.slice, last.call.objId);
    if (last.before) this.prompts.set(key, last.before);
    else this.prompts.delete(key);
    insertSlice(this.labels, this.dims, axis, last.call.slice, last.labelsBefore);
    return { axis, undone: last.call, remaining: this.history.map((h) => h.call) };
  }

  /** Forgets the session's prompts and history (the masks stay). */
  resetSession(axis: Axis | null): void {
    this.prompts.clear();
    this.history = [];
    this.sessionAxis = axis;
  }

  labelSlice(axis: Axis, slice: number): Uint8Array {
    return extractSlice(this.labels, this.dims, axis, slice);
  }

  /** Paints engine masks into the label volume (each object's previous label on the slice is replaced). */
  applyMasks(axis: Axis, masks: SliceMasks): void {
    masks.objIds.forEach((id, i) => writeMaskSlice(this.labels, this.dims, axis, masks.slice, masks.masks[i], id));
  }

  clearLabels(): void {
    this.labels.fill(0);
  }

  /** Voxels per object id (index = id). */
  voxelCounts(): number[] {
    const counts = new Array<number>(MAX_OBJECTS + 1).fill(0);
    for (let i = 0; i < this.labels.length; i++) counts[this.labels[i]]++;
    return counts;
  }
}
