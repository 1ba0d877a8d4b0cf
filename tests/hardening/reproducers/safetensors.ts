// Issue 13, item 5 (safetensors): the header must be as strict as the reference crate's.
import { parseSafetensors } from '../../../src/io/safetensors.js';
import type { Reproducer } from '../helpers/reproducer.js';

/** A file whose header is `json` verbatim (no padding) followed by `dataBytes` bytes of data. */
export function rawSafetensors(json: string | Uint8Array, dataBytes: number): Uint8Array {
  const header = typeof json === 'string' ? new TextEncoder().encode(json) : json;
  const out = new Uint8Array(8 + header.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  for (let i = 0; i < dataBytes; i++) out[8 + header.length + i] = (i * 37 + 11) & 0xff;
  return out;
}

const t = (offsets: string, shape = '[2]') => `{"dtype":"F32","shape":${shape},"data_offsets":${offsets}}`;

export const reproducers: Reproducer[] = [
  {
    name: 'duplicate tensor key (last would win)',
    run: () => parseSafetensors(rawSafetensors(`{"w":${t('[0,8]')},"w":${t('[0,8]')}}`, 8)),
    error: /duplicate key "w"/,
  },
  {
    name: 'duplicate field inside an entry',
    run: () => parseSafetensors(rawSafetensors(`{"w":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}}`, 8)),
    error: /duplicate key "dtype"/,
  },
  {
    name: 'duplicate __metadata__ key',
    run: () => parseSafetensors(rawSafetensors(`{"__metadata__":{"a":"1","a":"2"},"w":${t('[0,8]')}}`, 8)),
    error: /duplicate key "a"/,
  },
  {
    name: 'UTF-8 byte order mark before the JSON',
    run: () => parseSafetensors(rawSafetensors(new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(`{"w":${t('[0,8]')}}`)]), 8)),
    error: /must start with '\{', found a byte order mark/,
  },
  {
    name: 'leading whitespace',
    run: () => parseSafetensors(rawSafetensors(` {"w":${t('[0,8]')}}`, 8)),
    error: /must start with '\{'/,
  },
  {
    name: 'float data_offsets',
    run: () => parseSafetensors(rawSafetensors(`{"w":${t('[0.0,8.0]')}}`, 8)),
    error: /invalid data_offsets \[0\.0, 8\.0\]/,
  },
  {
    name: 'exponent data_offsets',
    run: () => parseSafetensors(rawSafetensors(`{"w":${t('[0,8e0]')}}`, 8)),
    error: /invalid data_offsets/,
  },
  {
    name: 'float shape',
    run: () => parseSafetensors(rawSafetensors(`{"w":${t('[0,8]', '[2.0]')}}`, 8)),
    error: /invalid shape \[2\.0\]/,
  },
  {
    name: 'negative zero offset',
    run: () => parseSafetensors(rawSafetensors(`{"w":${t('[-0,8]')}}`, 8)),
    error: /invalid data_offsets/,
  },
  {
    name: 'offsets past 2^53',
    run: () => parseSafetensors(rawSafetensors(`{"w":${t('[0,9007199254740993]')}}`, 8)),
    error: /invalid data_offsets/,
  },
  {
    name: 'shape whose size overflows',
    run: () => parseSafetensors(rawSafetensors(`{"w":${t('[0,8]', '[4294967296,4294967296,4294967296]')}}`, 8)),
    error: /overflows/,
  },
  {
    name: 'trailing bytes after the JSON that are not whitespace',
    run: () => parseSafetensors(rawSafetensors(`{"w":${t('[0,8]')}}\0\0`, 8)),
    error: /not valid JSON .*after the JSON value/,
  },
  {
    name: 'JSON nested 100,000 deep in a value',
    run: () => parseSafetensors(rawSafetensors(`{"__metadata__":${'['.repeat(100_000)}}`, 0)),
    error: /nested deeper than 8/,
  },
  {
    name: 'a valid file with space padding still reads',
    run: () => parseSafetensors(rawSafetensors(`{"w":${t('[0,8]')}}   `, 8)).getFloat32('w'),
    check: (v) => {
      if (!(v instanceof Float32Array) || v.length !== 2) throw new Error('expected 2 floats');
    },
  },
];
