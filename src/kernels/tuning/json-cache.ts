// The tuned-kernel cache as data: adapter → op → shape bucket → winner { id, cfg, ms }, written by
// `npm run bench:tune` and read by the KernelSelector. Plain JSON so the same file works in Node
// (node-cache.ts) and in browsers (opfs-cache.ts).
import type { KernelConfig, TunedEntry, TuningCache } from '../registry.js';

export const TUNED_CACHE_FORMAT = 'sam2-webgpu-tuned-kernels';
export const TUNED_CACHE_VERSION = 1;

export interface TunedCacheJson {
  format: typeof TUNED_CACHE_FORMAT;
  version: number;
  /** adapter name (GpuTarget.adapterName) → op → bucket → winner. */
  adapters: Record<string, Record<string, Record<string, TunedEntry>>>;
}

function isConfig(v: unknown): v is KernelConfig {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'number' && Number.isFinite(x));
}

function isEntry(v: unknown): v is TunedEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.id === 'string' && (e.cfg === undefined || isConfig(e.cfg)) && (e.ms === undefined || typeof e.ms === 'number');
}

export class JsonTuningCache implements TuningCache {
  private readonly data: TunedCacheJson['adapters'];

  constructor(adapters: TunedCacheJson['adapters'] = {}) {
    this.data = adapters;
  }

  /** Parses and checks a cache file's text; throws an Error naming what is wrong. */
  static parse(text: string, where = 'tuned-kernel cache'): JsonTuningCache {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${where}: not JSON (${(e as Error).message})`);
    }
    const j = json as Partial<TunedCacheJson>;
    if (j?.format !== TUNED_CACHE_FORMAT) throw new Error(`${where}: format is ${JSON.stringify(j?.format)}, expected "${TUNED_CACHE_FORMAT}"`);
    if (j.version !== TUNED_CACHE_VERSION) throw new Error(`${where}: version ${j.version} is not ${TUNED_CACHE_VERSION}`);
    const adapters = j.adapters;
    if (typeof adapters !== 'object' || adapters === null) throw new Error(`${where}: no "adapters" object`);
    for (const [adapter, ops] of Object.entries(adapters)) {
      for (const [op, buckets] of Object.entries(ops ?? {})) {
        for (const [bucket, entry] of Object.entries(buckets ?? {})) {
          if (!isEntry(entry)) throw new Error(`${where}: bad entry ${adapter} / ${op} / ${bucket}: ${JSON.stringify(entry)}`);
        }
      }
    }
    return new JsonTuningCache(adapters);
  }

  get(adapter: string, op: string, bucket: string): TunedEntry | undefined {
    return this.data[adapter]?.[op]?.[bucket];
  }

  set(adapter: string, op: string, bucket: string, entry: TunedEntry): void {
    const ops = (this.data[adapter] ??= {});
    (ops[op] ??= {})[bucket] = { ...entry };
  }

  /** Entries of one adapter (all ops), e.g. to list what was tuned. */
  entries(adapter: string): Array<{ op: string; bucket: string; entry: TunedEntry }> {
    return Object.entries(this.data[adapter] ?? {}).flatMap(([op, b]) => Object.entries(b).map(([bucket, entry]) => ({ op, bucket, entry })));
  }

  get size(): number {
    return Object.values(this.data).reduce((n, ops) => n + Object.values(ops).reduce((m, b) => m + Object.keys(b).length, 0), 0);
  }

  toJSON(): TunedCacheJson {
    return { format: TUNED_CACHE_FORMAT, version: TUNED_CACHE_VERSION, adapters: this.data };
  }

  stringify(): string {
    return `${JSON.stringify(this.toJSON(), null, 1)}\n`;
  }
}
