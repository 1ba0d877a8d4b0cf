import { describe, expect, it } from 'vitest';
import { PickleError, PyCallable, PyClassRef, unpickle, type UnpicklerOptions } from '../../weights-tools/restricted-unpickler.js';
import { Pickler } from './helpers/torch-writer.js';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));

// Produced by CPython 3 `pickle.dumps(obj, protocol=N)` (see the expected values below).
const PY_PROTO2 = '80027d71002858010000006171015d7102284b014afeffffff4d2c014a701101004a90eefeff8a060000000000018a090000000000000000408a090000000000000000c047400400000000000047bfc0000000000000580600000068c3a96c6c6f71034e88894b014b02867104294b078571054b014b024b03877106284b014b024b034b047471076558060000006e657374656471087d7109580100000078710a7d710b580100000079710c5d710d5d710e6173735806000000736861726564710f5d71104b09616810867111752e';
const PY_PROTO4 = '800495bb000000000000007d94288c0161945d94284b014afeffffff4d2c014a701101004a90eefeff8a060000000000018a090000000000000000408a090000000000000000c047400400000000000047bfc00000000000008c0668c3a96c6c6f944e88894b014b028694294b0785944b014b024b038794284b014b024b034b047494430200ff948f94284b014b0290284b039194658c066e6573746564947d948c0178947d948c0179945d945d946173738c06736861726564945d944b096168138694752e';
const PY_PROTO5 = '800595bb000000000000007d94288c0161945d94284b014afeffffff4d2c014a701101004a90eefeff8a060000000000018a090000000000000000408a090000000000000000c047400400000000000047bfc00000000000008c0668c3a96c6c6f944e88894b014b028694294b0785944b014b024b038794284b014b024b034b047494430200ff948f94284b014b0290284b039194658c066e6573746564947d948c0178947d948c0179945d945d946173738c06736861726564945d944b096168138694752e';
// {'b': b'\x00\xff'} at protocol 2: bytes go through _codecs.encode
const PY_BYTES_PROTO2 = '80027d71005801000000627101635f636f646563730a656e636f64650a7102580300000000c3bf710358060000006c6174696e317104867105527106732e';
// protocol 0 writes str with the UNICODE (raw-unicode-escape) opcode
const PY_PROTO0 = '286470300a56610a70310a286c70320a49310a614c313138303539313632303731373431313330333432344c0a6146322e350a614e614930310a612849310a49320a7470330a61732e';

const noGlobals: UnpicklerOptions = { resolveGlobal: () => undefined };

const commonItems = [1, -2, 300, 70000, -70000, 2 ** 40, 2n ** 70n, -(2n ** 70n), 2.5, -0.125, 'héllo', null, true, false, [1, 2], [], [7], [1, 2, 3], [1, 2, 3, 4]];

describe('restricted unpickler', () => {
  it('decodes CPython protocol 2 data', () => {
    const v = unpickle(hex(PY_PROTO2), noGlobals) as Map<string, unknown>;
    expect(v).toBeInstanceOf(Map);
    expect(v.get('a')).toEqual(commonItems);
    expect(v.get('nested')).toEqual(new Map([['x', new Map([['y', [[]]]])]]));
    const shared = v.get('shared') as unknown[][];
    expect(shared[0]).toBe(shared[1]); // memo keeps identity
  });

  for (const [proto, data] of [[4, PY_PROTO4], [5, PY_PROTO5]] as const) {
    it(`decodes CPython protocol ${proto} data (FRAME, MEMOIZE, SHORT_BINUNICODE, bytes, sets)`, () => {
      const v = unpickle(hex(data), noGlobals) as Map<string, unknown>;
      expect(v.get('a')).toEqual([...commonItems, Uint8Array.from([0, 255]), new Set([1, 2]), new Set([3])]);
      const shared = v.get('shared') as unknown[][];
      expect(shared[0]).toBe(shared[1]);
    });
  }

  it('resolves globals only through the allow list', () => {
    const encode = new PyCallable('_codecs.encode', ([s]) => Uint8Array.from(s as string, (c) => c.charCodeAt(0)));
    const v = unpickle(hex(PY_BYTES_PROTO2), { resolveGlobal: (m, n) => (`${m}.${n}` === '_codecs.encode' ? encode : undefined) });
    expect((v as Map<string, unknown>).get('b')).toEqual(Uint8Array.from([0, 255]));
    expect(() => unpickle(hex(PY_BYTES_PROTO2), noGlobals)).toThrow(/global "_codecs.encode" is not allowed/);
  });

  it('refuses a malicious pickle before anything could run', () => {
    const evil = new Pickler().proto(2).global('os', 'system').str('touch /tmp/pwned').tuple1().reduce().stop().result();
    expect(() => unpickle(evil, noGlobals)).toThrow(/global "os.system" is not allowed/);
    // STACK_GLOBAL (protocol 4) is checked the same way
    const stackGlobal = Uint8Array.from([0x80, 4, 0x8c, 8, ...Buffer.from('builtins'), 0x8c, 4, ...Buffer.from('eval'), 0x93, 0x2e]);
    expect(() => unpickle(stackGlobal, noGlobals)).toThrow(/global "builtins.eval" is not allowed/);
    // a class marker can be named but never called
    const callMarker = new Pickler().proto(2).global('torch', 'FloatStorage').emptyTuple().reduce().stop().result();
    expect(() => unpickle(callMarker, { resolveGlobal: () => new PyClassRef('torch.FloatStorage') })).toThrow(/REDUCE of "torch.FloatStorage" at offset \d+ is not allowed/);
  });

  it('names opcodes it does not allow', () => {
    expect(() => unpickle(hex(PY_PROTO0), noGlobals)).toThrow(/opcode UNICODE at offset 5 is not allowed/);
    const inst = Uint8Array.from([0x80, 2, 0x28, 0x69, ...Buffer.from('os\nsystem\n'), 0x2e]);
    expect(() => unpickle(inst, noGlobals)).toThrow(/opcode INST at offset 3 is not allowed/);
    const newobj = new Pickler().proto(2).none().emptyTuple().raw(0x81).stop().result();
    expect(() => unpickle(newobj, noGlobals)).toThrow(/opcode NEWOBJ/);
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0xff]), noGlobals)).toThrow(/opcode 0xff at offset 2/);
    const build = new Pickler().proto(2).emptyDict().emptyDict().build().stop().result();
    expect(() => unpickle(build, noGlobals)).toThrow(/BUILD \(setstate\) at offset \d+ is not allowed/);
  });

  it('reports truncated and malformed data', () => {
    const full = hex(PY_PROTO2);
    expect(() => unpickle(full.subarray(0, 40), noGlobals)).toThrow(PickleError);
    expect(() => unpickle(full.subarray(0, 40), noGlobals)).toThrow(/truncated data/);
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0x2e]), noGlobals)).toThrow(/stack underflow/);
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0x68, 5, 0x2e]), noGlobals)).toThrow(/memo key 5 not found/);
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0x74]), noGlobals)).toThrow(/no MARK/);
    expect(() => unpickle(Uint8Array.from([0x80, 9]), noGlobals)).toThrow(/unsupported protocol 9/);
    expect(() => unpickle(Uint8Array.from([0x80, 2, 0x4e, 0x4e, 0x4e, 0x73, 0x2e]), noGlobals)).toThrow(/SETITEM\(S\) on a non-dict/);
  });
});
