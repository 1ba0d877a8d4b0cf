// Issue 13, items 2 and 5 (pickle / zip): each hostile checkpoint must end in a clear error,
// fast and in bounded memory, through the same entry points `convert` and `inspect` use.
import { MemorySource } from '../../../src/io/node-files.js';
import { inspectFile } from '../../../weights-tools/inspect.js';
import { unpickle } from '../../../weights-tools/restricted-unpickler.js';
import { openTorchCheckpoint } from '../../../weights-tools/torch-checkpoint.js';
import { Pickler, writeCheckpoint, writeZip } from '../../weights-tools/helpers/torch-writer.js';
import { microCheckpoint } from '../../weights-tools/helpers/micro-checkpoint.js';
import type { Reproducer } from '../helpers/reproducer.js';
import { withTempFile } from '../helpers/temp-files.js';

/** Nested tuples, each holding the previous one ten times: 10^levels leaves in ~24 bytes a level. */
export function billionLaughs(p: Pickler, levels = 23): Pickler {
  p.mark().str('lol').tuple().binput(0).raw(0x30); // POP: only the memo keeps each level
  for (let i = 1; i <= levels; i++) {
    p.mark();
    for (let k = 0; k < 10; k++) p.binget(i - 1);
    p.tuple().binput(i);
    if (i < levels) p.raw(0x30);
  }
  return p;
}

/** {bomb: 1} as the top-level dict: its key is listed in the "no state_dict" error. */
export function laughsAsKey(): Uint8Array {
  const p = new Pickler().proto(2).emptyDict();
  billionLaughs(p).int(1).setitem();
  return p.stop().result();
}

/** A storage persistent id that is the bomb: named in the "unsupported persistent id" error. */
export function laughsAsPersistentId(): Uint8Array {
  const p = new Pickler().proto(2).emptyDict().str('model');
  billionLaughs(p).binpersid().setitem();
  return p.stop().result();
}

const open = (pickle: Uint8Array) => openTorchCheckpoint(new MemorySource(writeCheckpoint({ pickle, storages: new Map() })));

export const reproducers: Reproducer[] = [
  {
    name: 'billion laughs as a dict key (588 bytes)',
    run: () => open(laughsAsKey()),
    error: /no state_dict found.*top-level keys: \[\[\[/s,
  },
  {
    name: 'billion laughs as a persistent id',
    run: () => open(laughsAsPersistentId()),
    error: /unsupported persistent id/,
  },
  {
    name: 'billion laughs through inspect',
    run: async () => {
      const bytes = writeCheckpoint({ pickle: laughsAsKey(), storages: new Map() });
      const report = await withTempFile('laughs.pt', bytes, (path) => inspectFile(path));
      throw new Error(report.problems.join('; '));
    },
    error: /no state_dict found/,
  },
  {
    name: '1 MB LONG4 integer',
    run: () => {
      const n = 1_000_000;
      const head = new Pickler().proto(2).raw(0x8b, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, 0).result();
      const data = new Uint8Array(head.length + n + 1).fill(0x7f);
      data.set(head);
      data[data.length - 1] = 0x2e;
      return unpickle(data, { resolveGlobal: () => undefined });
    },
    error: /LONG4 integer of 1000000 bytes .* exceeds the 1024-byte limit/,
  },
  {
    name: '1 MB text INT',
    run: () => unpickle(new Uint8Array([0x49, ...new TextEncoder().encode('9'.repeat(1_000_000)), 0x0a, 0x2e]), { resolveGlobal: () => undefined }),
    error: /INT integer of 1000000 digits .* exceeds/,
  },
  {
    name: 'containers nested 200,000 deep',
    run: () => {
      const n = 200_000;
      const data = new Uint8Array(2 + n + (n - 1) + 1);
      data.set([0x80, 2]);
      data.fill(0x5d, 2, 2 + n); // EMPTY_LIST × n
      data.fill(0x61, 2 + n, 2 + n + n - 1); // APPEND × (n - 1): each list into the one below
      data[data.length - 1] = 0x2e;
      return open(data);
    },
    error: /nested more than 256 deep \(limit maxDepth\)/,
  },
  {
    name: 'one APPENDS of 500,000 items',
    run: () => {
      const n = 500_000;
      const data = new Uint8Array(4 + 2 * n + 2);
      data.set([0x80, 2, 0x5d, 0x28]); // EMPTY_LIST MARK
      for (let i = 0; i < n; i++) data.set([0x4b, i & 0xff], 4 + 2 * i); // BININT1
      data.set([0x65, 0x2e], 4 + 2 * n); // APPENDS STOP
      return open(data);
    },
    error: /top-level object is a list\/tuple, expected a dict/,
  },
  {
    name: 'a bigint in a persistent id',
    run: () => {
      const p = new Pickler().proto(2).emptyDict().str('model');
      p.mark().str('storage').raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40).tuple().binpersid().setitem();
      return open(p.stop().result());
    },
    error: /unsupported persistent id \["storage", 1180591620717411303424\]/,
  },
  {
    name: 'a circular list as a persistent id',
    run: () => {
      const p = new Pickler().proto(2).emptyDict().str('model');
      p.emptyList().binput(0).binget(0).raw(0x61).binpersid().setitem(); // l = []; l.append(l)
      return open(p.stop().result());
    },
    error: /unsupported persistent id \[<circular>\]/,
  },
  {
    name: 'a circular dict as the checkpoint',
    run: () => open(new Pickler().proto(2).emptyDict().binput(0).str('self').binget(0).setitem().stop().result()),
    error: /circular reference/,
  },
  {
    name: 'more values than maxObjects',
    run: () => {
      const n = 100;
      const data = new Uint8Array(2 + n + 1);
      data.set([0x80, 2]);
      data.fill(0x4e, 2, 2 + n); // NONE × n
      data[data.length - 1] = 0x2e;
      return unpickle(data, { resolveGlobal: () => undefined, limits: { maxObjects: 50 } });
    },
    error: /more than 50 values \(limit maxObjects\)/,
  },
  {
    name: 'zip: a central entry pointing at another entry\'s local header',
    run: async () => {
      const { bytes } = microCheckpoint();
      // Re-point the central record of data/1 at the local header of data/0 (same size storages
      // would otherwise read data/0's values as data/1's).
      const tampered = repointCentralEntry(bytes, 'archive/data/1', 'archive/data/0');
      const ckpt = await openTorchCheckpoint(new MemorySource(tampered));
      return ckpt.archive.read('archive/data/1');
    },
    error: /central directory entry "archive\/data\/1" points at the local header of "archive\/data\/0"/,
  },
  {
    name: 'zip: the same name twice in the central directory',
    run: () =>
      openTorchCheckpoint(
        new MemorySource(writeZip([{ name: 'archive/data.pkl', data: new Pickler().proto(2).emptyDict().stop().result() }, { name: 'archive/data.pkl', data: new Uint8Array(3) }])),
      ),
    error: /lists "archive\/data.pkl" twice/,
  },
];

/** Copies `zip` with the central record of `name` given the local-header offset of `target`. */
export function repointCentralEntry(zip: Uint8Array, name: string, target: string): Uint8Array {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  const dec = new TextDecoder();
  const offsets = new Map<string, { record: number; local: number }>();
  for (let p = 0; p + 46 <= out.length; p++) {
    if (v.getUint32(p, true) !== 0x02014b50) continue;
    const nameLen = v.getUint16(p + 28, true);
    offsets.set(dec.decode(out.subarray(p + 46, p + 46 + nameLen)), { record: p, local: v.getUint32(p + 42, true) });
  }
  const from = offsets.get(name);
  const to = offsets.get(target);
  if (!from || !to) throw new Error(`repointCentralEntry: ${name} or ${target} not in the archive`);
  v.setUint32(from.record + 42, to.local, true);
  return out;
}
