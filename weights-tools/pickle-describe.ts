// A short, bounded description of an unpickled value for error messages. Unpickled data can be
// shared (one list referenced a billion times), circular or very deep, and may hold bigints: the
// description visits at most a fixed number of nodes and a fixed depth, so it costs the same for
// a 588-byte "billion laughs" pickle as for a plain string, and never throws.

import { PyCallable, PyClassRef } from './restricted-unpickler.js';

const MAX_NODES = 32;
const MAX_DEPTH = 3;
const MAX_STRING = 60;

export function describePickleValue(value: unknown, maxLength = 120): string {
  let budget = MAX_NODES;
  const onPath = new Set<unknown>();
  const quote = (s: string) => JSON.stringify(s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…` : s);

  const walk = (v: unknown, depth: number): string => {
    if (budget-- <= 0) return '…';
    if (v === null || v === undefined) return 'None';
    switch (typeof v) {
      case 'string': return quote(v);
      case 'number': return Number.isFinite(v) ? String(v) : v !== v ? 'nan' : v > 0 ? 'inf' : '-inf';
      case 'bigint': {
        const s = v.toString();
        return s.length > 24 ? `<int of ${s.length} digits>` : s;
      }
      case 'boolean': return v ? 'True' : 'False';
      default: break;
    }
    if (v instanceof PyCallable || v instanceof PyClassRef) return `<${v.qualifiedName}>`;
    if (v instanceof Uint8Array) return `<bytes of length ${v.length}>`;
    if (onPath.has(v)) return '<circular>';
    const container = Array.isArray(v) ? 'list' : v instanceof Map ? 'dict' : v instanceof Set ? 'set' : null;
    if (!container) return `<${(v as object).constructor?.name ?? 'object'}>`;
    const size = Array.isArray(v) ? v.length : (v as Map<unknown, unknown> | Set<unknown>).size;
    const [open, close] = container === 'list' ? ['[', ']'] : ['{', '}'];
    if (depth >= MAX_DEPTH) return `<${container} of ${size}>`;
    onPath.add(v);
    const parts: string[] = [];
    const shown = Math.min(size, 4);
    if (v instanceof Map) {
      let n = 0;
      for (const [k, x] of v) {
        if (n++ >= shown || budget <= 0) break;
        parts.push(`${walk(k, depth + 1)}: ${walk(x, depth + 1)}`);
      }
    } else {
      let n = 0;
      for (const x of v as Iterable<unknown>) {
        if (n++ >= shown || budget <= 0) break;
        parts.push(walk(x, depth + 1));
      }
    }
    onPath.delete(v);
    if (parts.length < size) parts.push(`… ${size} items`);
    return `${open}${parts.join(', ')}${close}`;
  };

  let s: string;
  try {
    s = walk(value, 0);
  } catch {
    s = '<value>';
  }
  return s.length > maxLength ? `${s.slice(0, maxLength - 1)}…` : s;
}
