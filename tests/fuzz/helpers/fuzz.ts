// Shared pieces of the fuzz suite: fixed seeds (reproducible in CI), run counts (a few hundred per
// property in `npm test`, thousands under SAM2_FULL=1), byte-level mutations of valid files, and
// the one assertion every reader must meet: a correct read, or a clear error, quickly.
import fc from 'fast-check';
import { expect } from 'vitest';

/** The seed of every property (override with SAM2_FUZZ_SEED to explore). */
export const FUZZ_SEED = Number(process.env.SAM2_FUZZ_SEED ?? 1313);
const FULL = process.env.SAM2_FULL === '1';

/** Runs per property: `ci` in `npm test`, 10× under SAM2_FULL=1. */
export function runs(ci: number): number {
  return FULL ? ci * 10 : ci;
}

export function fuzzParams(ci: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: runs(ci), endOnFailure: true };
}

/** Errors that mean a reader crashed instead of refusing its input. */
const RAW_ERRORS = new Set(['RangeError', 'TypeError', 'SyntaxError', 'ReferenceError', 'InternalError', 'AggregateError']);

/** Longest a single fuzz case may take (issue 13: every reproducer within 2 s; these are tiny inputs). */
export const CASE_MS = 2000;

export interface Outcome<T> {
  value?: T;
  error?: Error;
  ms: number;
}

/**
 * Runs one reader call: a thrown error must be an Error with a message matching `clear` (which
 * names the reader or the input) and not a raw engine error; the call must finish within CASE_MS.
 */
export async function readOrClearError<T>(read: () => T | Promise<T>, clear: RegExp): Promise<Outcome<T>> {
  const t0 = performance.now();
  let out: Outcome<T>;
  try {
    out = { value: await read(), ms: 0 };
  } catch (e) {
    out = { error: e as Error, ms: 0 };
  }
  out.ms = performance.now() - t0;
  if (out.error) {
    const e = out.error;
    expect(e, 'a thrown value that is not an Error').toBeInstanceOf(Error);
    expect(RAW_ERRORS.has(e.name), `raw ${e.name}: ${e.message}\n${e.stack}`).toBe(false);
    expect(e.message).toMatch(clear);
  }
  expect(out.ms, 'a single fuzz case took too long').toBeLessThan(CASE_MS);
  return out;
}

/** One edit of a byte string. */
export type ByteEdit =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; count: number };

/** Edits anywhere in the first `span` bytes (positions are taken modulo the current length). */
export function byteEdits(maxEdits = 4): fc.Arbitrary<ByteEdit[]> {
  const at = fc.nat({ max: 1 << 20 });
  const edit: fc.Arbitrary<ByteEdit> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), at, value: fc.integer({ min: 0, max: 255 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 16 }) }) },
  );
  return fc.array(edit, { minLength: 1, maxLength: maxEdits });
}

/** Applies edits to a copy of `bytes`; `region` limits positions to [0, region) when given. */
export function applyEdits(bytes: Uint8Array, edits: ByteEdit[], region?: number): Uint8Array {
  let b = bytes.slice();
  for (const e of edits) {
    if (b.length === 0) break;
    const limit = Math.min(b.length, region ?? b.length);
    const at = e.at % Math.max(1, limit);
    if (e.kind === 'set') b[at] = e.value;
    else if (e.kind === 'truncate') b = b.slice(0, at);
    else if (e.kind === 'insert') {
      const n = new Uint8Array(b.length + e.bytes.length);
      n.set(b.subarray(0, at));
      n.set(e.bytes, at);
      n.set(b.subarray(at), at + e.bytes.length);
      b = n;
    } else {
      const count = Math.min(e.count, b.length - at);
      const n = new Uint8Array(b.length - count);
      n.set(b.subarray(0, at));
      n.set(b.subarray(at + count), at);
      b = n;
    }
  }
  return b;
}

/** Numbers that break naive header arithmetic. */
export const NASTY_INTS = [0, 1, -1, 2, 3, 7, 255, 256, 32767, -32768, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1];
export const NASTY_FLOATS = [0, -0, 1, -1, 0.5, 1e-30, 1e30, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 352, 348];
