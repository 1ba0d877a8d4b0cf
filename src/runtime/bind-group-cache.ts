// Bind groups reused by (pipeline, bound buffer ranges): creating one costs tens of µs of host time
// per dispatch, and a tracked slice repeats the same launches on the same pooled buffers. A bind
// group only names buffers, never their contents, so a hit stays correct when a pooled buffer is
// handed to another tensor; entries naming a destroyed buffer are dropped (`forget`). LRU-bounded.

/** One bound range: storage tensors and the uniform buffer alike. */
export interface BoundRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export class BindGroupCache {
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  /** key → bind group, in least-recently-used first order. */
  private readonly groups = new Map<string, GPUBindGroup>();
  /** buffer id → keys of the entries that bind it, to drop them when it is destroyed. */
  private readonly byBuffer = new Map<number, Set<string>>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly device: GPUDevice,
    readonly capacity = 8192,
  ) {
    if (!(capacity >= 1)) throw new Error(`BindGroupCache: capacity must be at least 1, got ${capacity}`);
  }

  /** Entries held. */
  get size(): number {
    return this.groups.size;
  }

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  /** The bind group of `pipeline`'s group 0 binding `ranges` to bindings 0..n-1, created on a miss. */
  get(pipeline: GPUComputePipeline, ranges: readonly BoundRange[], label: string): { group: GPUBindGroup; hit: boolean } {
    const bufferIds = ranges.map((r) => this.id(r.buffer));
    let key = String(this.id(pipeline));
    ranges.forEach((r, i) => (key += `|${bufferIds[i]}@${r.offset}+${r.size}`));
    const cached = this.groups.get(key);
    if (cached) {
      this.groups.delete(key);
      this.groups.set(key, cached);
      this.hits++;
      return { group: cached, hit: true };
    }
    const group = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: ranges.map((r, i) => ({ binding: i, resource: { buffer: r.buffer, offset: r.offset, size: r.size } })),
      label,
    });
    this.misses++;
    this.groups.set(key, group);
    for (const b of new Set(bufferIds)) {
      let keys = this.byBuffer.get(b);
      if (!keys) this.byBuffer.set(b, (keys = new Set()));
      keys.add(key);
    }
    if (this.groups.size > this.capacity) this.drop(this.groups.keys().next().value as string);
    return { group, hit: false };
  }

  /** Drops every entry binding `buffer` (call before destroying it). */
  forget(buffer: GPUBuffer): void {
    const id = this.ids.get(buffer);
    if (id === undefined) return;
    for (const key of [...(this.byBuffer.get(id) ?? [])]) this.drop(key);
    this.byBuffer.delete(id);
  }

  private drop(key: string): void {
    this.groups.delete(key);
    for (const part of key.split('|').slice(1)) {
      const b = Number(part.slice(0, part.indexOf('@')));
      const keys = this.byBuffer.get(b);
      keys?.delete(key);
      if (keys?.size === 0) this.byBuffer.delete(b);
    }
  }

  clear(): void {
    this.groups.clear();
    this.byBuffer.clear();
  }
}
