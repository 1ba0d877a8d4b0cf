// A strict JSON reader for file headers (safetensors). Unlike JSON.parse it keeps what a header
// validator needs to see: object members in order with duplicate keys reported (JSON.parse keeps
// the last one silently), and numbers as their source text, so "1.0", "1e3" or "-0" can be told
// apart from the integer 1000. Nesting is bounded, so hostile input cannot exhaust the stack.

export type StrictJson =
  | { kind: 'object'; members: Array<[string, StrictJson]> }
  | { kind: 'array'; items: StrictJson[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; text: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' };

export class StrictJsonError extends Error {
  override name = 'StrictJsonError';
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Parses `text` as one JSON value. Leading whitespace is allowed only when `allowLeadingSpace`;
 * trailing JSON whitespace is allowed (padding). Duplicate keys in any object are an error.
 */
export function parseStrictJson(text: string, options: { maxDepth?: number; allowLeadingSpace?: boolean } = {}): StrictJson {
  const maxDepth = options.maxDepth ?? 64;
  let pos = 0;
  const fail = (what: string): never => {
    throw new StrictJsonError(`${what} at character ${pos}`);
  };
  const skipWs = () => {
    while (pos < text.length && WS.has(text.charCodeAt(pos))) pos++;
  };
  const expect = (c: string) => {
    if (text[pos] !== c) fail(`expected '${c}'${pos < text.length ? `, found ${JSON.stringify(text[pos])}` : ' (end of text)'}`);
    pos++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, pos)) pos += word.length;
    else fail('invalid literal');
  };

  const string = (): string => {
    expect('"');
    let out = '';
    let start = pos;
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(start, pos);
        pos++;
        return out;
      }
      if (c < 0x20) fail('control character in a string');
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(start, pos);
      const e = text[pos + 1];
      pos += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 4;
          break;
        }
        default: fail('bad escape');
      }
      start = pos;
    }
  };

  const value = (depth: number): StrictJson => {
    if (depth > maxDepth) fail(`nested deeper than ${maxDepth}`);
    skipWs();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const members: Array<[string, StrictJson]> = [];
      const seen = new Set<string>();
      skipWs();
      if (text[pos] === '}') {
        pos++;
        return { kind: 'object', members };
      }
      for (;;) {
        skipWs();
        const keyAt = pos;
        const key = string();
        if (seen.has(key)) {
          pos = keyAt;
          fail(`duplicate key ${JSON.stringify(key)}`);
        }
        seen.add(key);
        skipWs();
        expect(':');
        members.push([key, value(depth + 1)]);
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        expect('}');
        return { kind: 'object', members };
      }
    }
    if (c === '[') {
      pos++;
      const items: StrictJson[] = [];
      skipWs();
      if (text[pos] === ']') {
        pos++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        expect(']');
        return { kind: 'array', items };
      }
    }
    if (c === '"') return { kind: 'string', value: string() };
    if (c === 't') return (literal('true'), { kind: 'bool', value: true });
    if (c === 'f') return (literal('false'), { kind: 'bool', value: false });
    if (c === 'n') return (literal('null'), { kind: 'null' });
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (!m || m[0].length === 0) return fail(pos >= text.length ? 'unexpected end of text' : `unexpected ${JSON.stringify(c)}`);
    pos += m[0].length;
    return { kind: 'number', text: m[0] };
  };

  if (!options.allowLeadingSpace && pos < text.length && WS.has(text.charCodeAt(0))) fail('leading whitespace');
  const v = value(0);
  skipWs();
  if (pos !== text.length) fail('unexpected text after the JSON value');
  return v;
}

/** The value of a JSON number written as a plain non-negative integer ("12", never "12.0", "1e1" or "-0"), or null. */
export function plainUnsignedInteger(v: StrictJson): number | null {
  if (v.kind !== 'number' || !/^(0|[1-9]\d*)$/.test(v.text)) return null;
  const n = Number(v.text);
  return Number.isSafeInteger(n) ? n : null;
}

/** Short text of a parsed value for error messages (bounded). */
export function strictJsonText(v: StrictJson, max = 80): string {
  const walk = (x: StrictJson, depth: number): string => {
    switch (x.kind) {
      case 'string': return JSON.stringify(x.value.length > 40 ? `${x.value.slice(0, 40)}…` : x.value);
      case 'number': return x.text.length > 30 ? `${x.text.slice(0, 30)}…` : x.text;
      case 'bool': return String(x.value);
      case 'null': return 'null';
      case 'array': return depth > 1 ? '[…]' : `[${x.items.slice(0, 8).map((i) => walk(i, depth + 1)).join(', ')}${x.items.length > 8 ? ', …' : ''}]`;
      case 'object': return depth > 1 ? '{…}' : `{${x.members.slice(0, 4).map(([k, m]) => `${JSON.stringify(k)}: ${walk(m, depth + 1)}`).join(', ')}${x.members.length > 4 ? ', …' : ''}}`;
    }
  };
  const s = walk(v, 0);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
