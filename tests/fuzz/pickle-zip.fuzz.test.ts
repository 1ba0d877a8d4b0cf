// Fuzz: the restricted unpickler and the checkpoint zip reader (what `convert` and `inspect` run).
// Plain values (with shared containers) unpickle exactly; random opcode streams and edited
// checkpoints end in a value or a clear pickle/zip/checkpoint error, fast, with nothing executed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../src/io/node-files.js';
import { unpickle } from '../../weights-tools/restricted-unpickler.js';
import { openTorchCheckpoint, readTensorBytes } from '../../weights-tools/torch-checkpoint.js';
import { stateDictPickle, writeCheckpoint } from '../weights-tools/helpers/torch-writer.js';
import { applyEdits, byteEdits, fuzzParams, readOrClearError } from './helpers/fuzz.js';
import { expectedUnpickled, picklePlain, Tuple, type PlainValue } from './helpers/pickle-values.js';

const CLEAR = /^(pickle|checkpoint|zip): |^read of \d+ bytes at offset/;
const noGlobals = { resolveGlobal: () => undefined };

const plain: fc.Arbitrary<PlainValue> = fc.letrec<{ value: PlainValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
    fc.string({ maxLength: 8 }),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => new Tuple(items)),
    fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), tie('value')), { maxLength: 3 }).map((e) => new Map(e)),
  ),
})).value;

/** A value that shares one container several times (memo references, not copies). */
const shared = fc.tuple(plain, fc.integer({ min: 2, max: 5 })).map(([inner, n]) => {
  const box: PlainValue[] = [inner];
  return Array.from({ length: n }, () => box) as PlainValue[];
});

const ALLOWED_OPS = [
  0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x4a, 0x4b, 0x4d, 0x8a, 0x8b, 0x47, 0x58, 0x8c, 0x42, 0x43, 0x29, 0x74, 0x85, 0x86,
  0x87, 0x5d, 0x6c, 0x61, 0x65, 0x7d, 0x64, 0x73, 0x75, 0x8f, 0x90, 0x91, 0x71, 0x72, 0x94, 0x68, 0x6a, 0x63, 0x93, 0x52, 0x62, 0x51, 0x95,
  0x49, 0x4c, 0x70, 0x67,
];

/** One opcode with arguments of roughly the right shape (lengths may lie). */
const op = fc.oneof(
  fc.tuple(fc.constantFrom(...ALLOWED_OPS), fc.uint8Array({ maxLength: 9 })).map(([o, args]) => [o, ...args]),
  fc.constantFrom(
    [0x63, ...new TextEncoder().encode('torch._utils\n_rebuild_tensor_v2\n')],
    [0x63, ...new TextEncoder().encode('collections\nOrderedDict\n')],
    [0x63, ...new TextEncoder().encode('torch\nFloatStorage\n')],
    [0x63, ...new TextEncoder().encode('os\nsystem\n')],
    [0x8c, 7, ...new TextEncoder().encode('storage')],
    [0x8c, 5, ...new TextEncoder().encode('model')],
    [0x49, ...new TextEncoder().encode('123\n')],
    [0x4b, 2],
    [0x68, 0],
    [0x71, 0],
  ),
);

const tinyCheckpoint = () =>
  writeCheckpoint({
    pickle: stateDictPickle(
      [
        { key: 'w', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 6, offset: 0, shape: [2, 3], stride: [3, 1] },
        { key: 't', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 6, offset: 0, shape: [3, 2], stride: [1, 3] },
        { key: 'h', storageKey: '1', storageClass: 'HalfStorage', storageNumel: 4, offset: 0, shape: [4], stride: [1] },
      ],
      { wrapModel: true, extraIntEntries: { epoch: 3 } },
    ),
    storages: new Map([
      ['0', Uint8Array.from({ length: 24 }, (_, i) => i * 3)],
      ['1', Uint8Array.from({ length: 8 }, (_, i) => i + 60)],
    ]),
  });

async function openAndReadAll(bytes: Uint8Array): Promise<number> {
  const ckpt = await openTorchCheckpoint(new MemorySource(bytes), { maxObjects: 100_000 });
  let n = 0;
  for (const [key, ref] of ckpt.stateDict) n += (await readTensorBytes(ckpt, key, ref)).length;
  return n;
}

describe('fuzz: pickle and checkpoint zip', () => {
  it('plain values unpickle exactly, shared containers stay shared', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(plain, shared), async (v) => {
        const { value } = await readOrClearError(() => unpickle(picklePlain(v), noGlobals), /^$/);
        expect(value).toEqual(expectedUnpickled(v));
        if (Array.isArray(v) && v.length > 1 && v[0] === v[1] && Array.isArray(v[0])) {
          const got = value as unknown[];
          expect(got[0]).toBe(got[1]);
        }
      }),
      fuzzParams(300),
    );
  });

  it('random opcode streams end in a value or a clear pickle error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const data = Uint8Array.from([0x80, 2, ...ops.flat(), 0x2e]);
        await readOrClearError(() => unpickle(data, { ...noGlobals, limits: { maxObjects: 10_000 } }), CLEAR);
        // The same stream as a checkpoint's data.pkl, with the real allow list.
        await readOrClearError(() => openAndReadAll(writeCheckpoint({ pickle: data, storages: new Map() })), CLEAR);
      }),
      fuzzParams(400),
    );
  });

  const valid = tinyCheckpoint();

  it('the tiny checkpoint reads (and its views are gathered)', async () => {
    expect(await openAndReadAll(valid)).toBe(24 + 24 + 8);
  });

  it('edited checkpoints read or fail with a clear error', async () => {
    await fc.assert(
      fc.asyncProperty(byteEdits(3), async (edits) => {
        await readOrClearError(() => openAndReadAll(applyEdits(valid, edits)), CLEAR);
      }),
      fuzzParams(400),
    );
  });
});
