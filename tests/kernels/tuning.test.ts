// The tuned-kernel cache (JSON format, Node file loading, Gpu.create wiring) and an autotuner
// smoke run on the micro model (two conv buckets, first config per variant): it must record the
// model's launches, check and time the candidates, and write a cache the engine then uses.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { materializeSpec } from '../../bench/tune/materialize.js';
import { runTune } from '../../bench/tune/run.js';
import { linearSpec } from '../../src/kernels/matmul/matmul.js';
import { KernelSelector, type OpFamily } from '../../src/kernels/registry.js';
import { JsonTuningCache } from '../../src/kernels/tuning/json-cache.js';
import { defaultTunedCachePath, loadTunedCache, saveTunedCache } from '../../src/kernels/tuning/node-cache.js';
import { loadTunedCacheOpfs, saveTunedCacheOpfs } from '../../src/kernels/tuning/opfs-cache.js';
import { Gpu } from '../../src/runtime/gpu.js';
import type { GpuTarget } from '../../src/runtime/target.js';
import { GpuTensor } from '../../src/runtime/tensor.js';
import { getTestGpu } from '../helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'sam2-tune-'));
const saved = process.env.SAM2_TUNED_CACHE;
afterEach(() => {
  if (saved === undefined) delete process.env.SAM2_TUNED_CACHE;
  else process.env.SAM2_TUNED_CACHE = saved;
  vi.restoreAllMocks();
});

describe('tuned-kernel cache', () => {
  it('round-trips and rejects malformed files by name', () => {
    const c = new JsonTuningCache();
    c.set('gpu A', 'matmul', 'nk-f32-b1-m64-n64-k64', { id: 'matmul-tiled', cfg: { TM: 64, TN: 64, TK: 16, WG: 256 }, ms: 0.5 });
    c.set('gpu A', 'conv', 'x', { id: 'conv-igemm' });
    const back = JsonTuningCache.parse(c.stringify());
    expect(back.get('gpu A', 'matmul', 'nk-f32-b1-m64-n64-k64')).toEqual({ id: 'matmul-tiled', cfg: { TM: 64, TN: 64, TK: 16, WG: 256 }, ms: 0.5 });
    expect(back.get('gpu B', 'matmul', 'nk-f32-b1-m64-n64-k64')).toBeUndefined();
    expect(back.size).toBe(2);
    expect(() => JsonTuningCache.parse('{', 'f.json')).toThrow(/f.json: not JSON/);
    expect(() => JsonTuningCache.parse('{"format":"x"}')).toThrow(/format is "x"/);
    const bad = c.toJSON();
    (bad.adapters['gpu A'].conv.x as unknown as { id: number }).id = 3;
    expect(() => JsonTuningCache.parse(JSON.stringify(bad))).toThrow(/bad entry gpu A \/ conv \/ x/);
  });

  it('Node files: env path, off switch, missing and malformed files', async () => {
    const file = join(dir, 'a.json');
    process.env.SAM2_TUNED_CACHE = file;
    expect(await defaultTunedCachePath()).toBe(file);
    expect(await loadTunedCache()).toBeUndefined();
    const c = new JsonTuningCache();
    c.set('x', 'matmul', 'b', { id: 'matmul-regblock' });
    await saveTunedCache(c);
    expect((await loadTunedCache())?.get('x', 'matmul', 'b')).toEqual({ id: 'matmul-regblock' });
    process.env.SAM2_TUNED_CACHE = 'off';
    expect(await defaultTunedCachePath()).toBeUndefined();
    expect(await loadTunedCache()).toBeUndefined();
    delete process.env.SAM2_TUNED_CACHE;
    expect(await defaultTunedCachePath()).toMatch(/sam2-webgpu[/\\]tuned-kernels\.json$/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, 'not json');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await loadTunedCache(broken)).toBeUndefined();
    expect(warn.mock.calls[0][0]).toMatch(/ignoring .*broken\.json: not JSON/);
  });

  it('OPFS: save and load through navigator.storage (an in-memory stand-in here)', async () => {
    const files = new Map<string, string>();
    const root = {
      async getFileHandle(name: string, o?: { create?: boolean }) {
        if (!files.has(name) && !o?.create) throw new DOMException('no file', 'NotFoundError');
        return {
          getFile: async () => ({ text: async () => files.get(name) ?? '' }),
          createWritable: async () => {
            let text = '';
            return { write: async (t: string) => void (text += t), close: async () => void files.set(name, text) };
          },
        };
      },
    };
    vi.stubGlobal('navigator', { storage: { getDirectory: async () => root } });
    try {
      expect(await loadTunedCacheOpfs()).toBeUndefined();
      const c = new JsonTuningCache();
      c.set('web gpu', 'matmul', 'b', { id: 'matmul-tiled', cfg: { TM: 64 } });
      await saveTunedCacheOpfs(c);
      expect((await loadTunedCacheOpfs())?.get('web gpu', 'matmul', 'b')).toEqual({ id: 'matmul-tiled', cfg: { TM: 64 } });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('a target override ignores the tuned cache (winners were timed on the real adapter)', () => {
    const target = { kind: 'cpu', adapterName: 'a' } as GpuTarget;
    const family: OpFamily<number> = {
      op: 'toy',
      variants: ['toy-cpu', 'toy-gpu', 'toy-tuned'].map((id) => ({ id, supports: () => true, configs: () => [{}], build: () => [] })),
      bucket: () => 'b',
      heuristic: (_s, t) => (t.kind === 'cpu' ? 'toy-cpu' : 'toy-gpu'),
    };
    const tuned = new JsonTuningCache();
    tuned.set('a', 'toy', 'b', { id: 'toy-tuned' });
    const sel = new KernelSelector(target, { env: false, tuned });
    expect(sel.pick(family, 1).variant.id).toBe('toy-tuned');
    sel.setTargetOverride({ kind: 'gpu' });
    expect(sel.pick(family, 1).variant.id).toBe('toy-gpu');
    sel.setTargetOverride(undefined);
    expect(sel.pick(family, 1).source).toBe('tuned');
    // A config the variant no longer lists (a stale cache) is ignored.
    tuned.set('a', 'toy', 'b', { id: 'toy-tuned', cfg: { TM: 999 } });
    expect(sel.pick(family, 1)).toMatchObject({ source: 'heuristic', variant: { id: 'toy-cpu' } });
  });

  it('materialized specs keep shapes, offsets and aliasing on fresh random buffers', async () => {
    const gpu = await getTestGpu();
    const big = gpu.empty([1000]);
    const x = new GpuTensor(big.buffer, [3, 8], 'f32', 256);
    const w = gpu.empty([5, 8], 'f16');
    const out = gpu.empty([3, 5]);
    const spec = linearSpec(x, w, undefined, out, { residual: out });
    const m = materializeSpec(gpu, spec);
    try {
      expect(m.spec.resMode).toBe(spec.resMode);
      expect(m.spec.residual!.buffer).toBe(m.spec.out.buffer);
      expect(m.spec.a.buffer).not.toBe(big.buffer);
      expect([m.spec.a.offset, m.spec.a.shape, m.spec.b.dtype]).toEqual([0, [3, 8], 'f16']);
      expect(m.tensors.length).toBe(3);
      const [a, b] = await m.readFloats();
      expect(a!.every((v) => v >= -1 && v <= 1) && a!.some((v) => v !== 0)).toBe(true);
      expect(b!.length).toBe(40);
    } finally {
      m.release();
      [big, w, out].forEach((t) => t.release());
    }
  });

  it('autotuner smoke (micro, conv): the cache it writes is what Gpu.create then uses', async () => {
    const out = join(dir, 'tuned.json');
    const report = await runTune(
      { arch: 'micro', sizes: [256], ops: ['conv'], quick: true, maxBuckets: 2, targetMs: 20, out, report: join(dir, 'report.json') },
      () => {},
    );
    expect(report.launches.length).toBe(2);
    // The dense patch embed has two candidates (direct and implicit GEMM), both checked and timed.
    const l = report.launches.find((x) => x.bucket.startsWith('dense'))!;
    expect(l.op).toBe('conv');
    expect(l.candidates.map((c) => c.id).sort()).toEqual(['conv-direct', 'conv-igemm']);
    for (const c of l.candidates) {
      expect(c.error, `${c.id}: ${c.error}`).toBeUndefined();
      expect(c.relL2).toBeLessThan(1e-3);
    }
    expect(l.winner?.ms).toBeGreaterThan(0);
    const cache = JsonTuningCache.parse(readFileSync(out, 'utf8'));
    const entry = cache.get(report.adapter, 'conv', l.bucket);
    expect(entry?.id).toBe(l.winner?.id);

    // Gpu.create reads the file.
    const gpu = await Gpu.create({ tunedCache: out });
    try {
      expect(gpu.kernels.tuned?.get(gpu.adapterName, 'conv', l.bucket)?.id).toBe(entry?.id);
    } finally {
      gpu.destroy();
    }
  });
});
