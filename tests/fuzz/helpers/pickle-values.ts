// A small pickler for plain values (protocol 2 opcodes, memo for shared containers), so the fuzz
// suite can check that what the restricted unpickler reads is exactly what was written.

/** A tuple (pickled with TUPLE; unpickled as an array like a list). */
export class Tuple {
  constructor(readonly items: PlainValue[]) {}
}

export type PlainValue = null | boolean | number | bigint | string | Uint8Array | PlainValue[] | Tuple | Map<string | number, PlainValue>;

export function picklePlain(root: PlainValue): Uint8Array {
  const out: number[] = [0x80, 2];
  const memo = new Map<object, number>();
  const u32 = (n: number) => out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  const put = (o: object) => {
    const i = memo.size;
    memo.set(o, i);
    out.push(0x72); // LONG_BINPUT
    u32(i);
  };
  const write = (v: PlainValue): void => {
    if (v === null) out.push(0x4e);
    else if (v === true) out.push(0x88);
    else if (v === false) out.push(0x89);
    else if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) {
        out.push(0x4a);
        u32(v >>> 0);
      } else {
        out.push(0x47); // BINFLOAT, big-endian
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v, false);
        out.push(...b);
      }
    } else if (typeof v === 'bigint') {
      // LONG1: little-endian two's complement, minimal length
      const bytes: number[] = [];
      let x = v;
      for (;;) {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
        if ((x === 0n && (bytes[bytes.length - 1] & 0x80) === 0) || (x === -1n && (bytes[bytes.length - 1] & 0x80) !== 0)) break;
      }
      out.push(0x8a, bytes.length, ...bytes);
    } else if (typeof v === 'string') {
      const b = new TextEncoder().encode(v);
      out.push(0x58);
      u32(b.length);
      out.push(...b);
    } else if (v instanceof Uint8Array) {
      out.push(0x42);
      u32(v.length);
      out.push(...v);
    } else if (memo.has(v)) {
      out.push(0x6a); // LONG_BINGET
      u32(memo.get(v)!);
    } else if (v instanceof Tuple) {
      // Tuples are immutable: they are memoized after they are built.
      out.push(0x28);
      for (const x of v.items) write(x);
      out.push(0x74);
      put(v);
    } else if (Array.isArray(v)) {
      out.push(0x5d);
      put(v);
      if (v.length) {
        out.push(0x28);
        for (const x of v) write(x);
        out.push(0x65);
      }
    } else {
      out.push(0x7d);
      put(v);
      if (v.size) {
        out.push(0x28);
        for (const [k, x] of v) {
          write(k);
          write(x);
        }
        out.push(0x75);
      }
    }
  };
  write(root);
  out.push(0x2e);
  return Uint8Array.from(out);
}

/** What the unpickler returns for a plain value: tuples become arrays, safe bigints become numbers. */
export function expectedUnpickled(v: PlainValue, seen = new Map<object, unknown>()): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (seen.has(v)) return seen.get(v);
  if (v instanceof Tuple) {
    const a: unknown[] = [];
    seen.set(v, a);
    for (const x of v.items) a.push(expectedUnpickled(x, seen));
    return a;
  }
  if (Array.isArray(v)) {
    const a: unknown[] = [];
    seen.set(v, a);
    for (const x of v) a.push(expectedUnpickled(x, seen));
    return a;
  }
  const m = new Map<unknown, unknown>();
  seen.set(v, m);
  for (const [k, x] of v) m.set(k, expectedUnpickled(x, seen));
  return m;
}
