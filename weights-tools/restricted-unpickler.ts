// A restricted pickle interpreter for PyTorch checkpoints. It understands the opcodes of
// protocols 0-5 that plain data uses and resolves GLOBAL/STACK_GLOBAL only against an allow
// list of pure constructors implemented here in TypeScript (the equivalent of
// torch.load(weights_only=True)); nothing from the pickle is ever executed. Any other global or
// opcode is an error naming it.
// Python values map to: None -> null, bool, int -> number (bigint beyond 2^53), float -> number,
// str -> string, bytes -> Uint8Array, tuple/list -> array, dict/OrderedDict -> Map.

export class PickleError extends Error {
  override name = 'PickleError';
}

/** A global the allow list resolved; REDUCE calls `call`. */
export class PyCallable {
  constructor(readonly qualifiedName: string, readonly call: (args: unknown[]) => unknown) {}
}

/** A global that is only ever used as a marker argument (e.g. a storage class). */
export class PyClassRef {
  constructor(readonly qualifiedName: string) {}
}

/**
 * Bounds on what a pickle may build. Every opcode costs at least one byte, so work and memory
 * are linear in the input; these limits cap them further and keep consumers (which may recurse)
 * safe. Each limit has its own clear error.
 */
export interface UnpicklerLimits {
  /** Deepest nesting of containers in the result (default 256; a state dict needs about 5). */
  maxDepth?: number;
  /** Most values (containers, strings, bytes, numbers, calls) the pickle may create (default 20 million). */
  maxObjects?: number;
  /** Largest integer, in bytes of two's complement (LONG1/LONG4) or decimal digits / 2.4 (INT/LONG text) (default 1024 bytes). */
  maxIntBytes?: number;
}

export const DEFAULT_UNPICKLER_LIMITS: Required<UnpicklerLimits> = { maxDepth: 256, maxObjects: 20_000_000, maxIntBytes: 1024 };

export interface UnpicklerOptions {
  limits?: UnpicklerLimits;
  /** Resolves "module.name" to a callable/marker, or returns undefined to refuse it. */
  resolveGlobal(module: string, name: string): PyCallable | PyClassRef | undefined;
  /** PERSID / BINPERSID handler. */
  persistentLoad?(pid: unknown): unknown;
  /** BUILD (obj.__setstate__): return normally to accept the state, throw to refuse it. */
  build?(obj: unknown, state: unknown): void;
}

const MARK = Symbol('mark');

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

/** Opcodes that create a new value (counted against maxObjects); DUP/GET/PUT only share one. */
const CREATES_VALUE = new Uint8Array(256);
for (const name of [
  'FLOAT', 'INT', 'BININT', 'BININT1', 'LONG', 'BININT2', 'PERSID', 'BINPERSID', 'REDUCE', 'BINUNICODE', 'BINSTRING',
  'SHORT_BINSTRING', 'GLOBAL', 'DICT', 'EMPTY_DICT', 'LIST', 'EMPTY_LIST', 'TUPLE', 'EMPTY_TUPLE', 'BINFLOAT', 'TUPLE1',
  'TUPLE2', 'TUPLE3', 'LONG1', 'LONG4', 'BINBYTES', 'SHORT_BINBYTES', 'SHORT_BINUNICODE', 'BINUNICODE8', 'BINBYTES8',
  'EMPTY_SET', 'FROZENSET', 'STACK_GLOBAL', 'NONE', 'NEWTRUE', 'NEWFALSE',
]) {
  const code = Object.entries(OPCODE_NAMES).find(([, n]) => n === name)![0];
  CREATES_VALUE[Number(code)] = 1;
}

function opcodeName(op: number): string {
  return OPCODE_NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Little-endian two's complement integer of arbitrary length (LONG1/LONG4), in linear time. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  // One hex string, parsed once (shifting a bigint byte by byte is quadratic).
  const digits: string[] = new Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) digits[i] = HEX[bytes[bytes.length - 1 - i]];
  let v = BigInt(`0x${digits.join('')}`);
  if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return narrowInt(v);
}

function narrowInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Checks the finished value in one pass over its distinct containers (shared ones once, so the
 * cost is linear in the pickle): nesting depth within the limit and no container inside itself.
 */
function checkStructure(root: unknown, maxDepth: number): void {
  const isContainer = (v: unknown): v is unknown[] | Map<unknown, unknown> | Set<unknown> =>
    Array.isArray(v) || v instanceof Map || v instanceof Set;
  if (!isContainer(root)) return;
  const depth = new Map<object, number>(); // finished containers -> height
  const open = new Set<object>();
  // Explicit stack of [container, its children, next child index]: no recursion.
  const children = (c: unknown[] | Map<unknown, unknown> | Set<unknown>): unknown[] => {
    if (Array.isArray(c)) return c;
    if (c instanceof Set) return [...c];
    const out: unknown[] = [];
    for (const [k, v] of c) out.push(k, v);
    return out;
  };
  const stack: Array<{ node: object; kids: unknown[]; i: number; height: number }> = [{ node: root, kids: children(root), i: 0, height: 1 }];
  open.add(root);
  while (stack.length > 0) {
    if (stack.length > maxDepth) {
      throw new PickleError(`pickle: containers nested more than ${maxDepth} deep (limit maxDepth); not a plain checkpoint`);
    }
    const top = stack[stack.length - 1];
    if (top.i < top.kids.length) {
      const kid = top.kids[top.i++];
      if (!isContainer(kid)) continue;
      if (open.has(kid)) throw new PickleError('pickle: a container holds itself (circular reference); not a plain checkpoint');
      const h = depth.get(kid);
      if (h !== undefined) {
        top.height = Math.max(top.height, h + 1);
        if (stack.length + h > maxDepth) {
          throw new PickleError(`pickle: containers nested more than ${maxDepth} deep (limit maxDepth); not a plain checkpoint`);
        }
        continue;
      }
      open.add(kid);
      stack.push({ node: kid, kids: children(kid), i: 0, height: 1 });
      continue;
    }
    stack.pop();
    open.delete(top.node);
    depth.set(top.node, top.height);
    if (stack.length > 0) stack[stack.length - 1].height = Math.max(stack[stack.length - 1].height, top.height + 1);
  }
}

export function unpickle(data: Uint8Array, options: UnpicklerOptions): unknown {
  const limits = { ...DEFAULT_UNPICKLER_LIMITS, ...options.limits };
  let objects = 0;
  const intBytes = (n: number, what: string) => {
    if (n > limits.maxIntBytes) {
      throw new PickleError(`pickle: ${what} integer of ${n} bytes at offset ${pos} exceeds the ${limits.maxIntBytes}-byte limit (maxIntBytes)`);
    }
    return n;
  };
  // Decimal text: Python itself refuses int() of more than 4300 digits; 2.41 digits per byte.
  const intText = (s: string, what: string) => {
    if (s.length > Math.ceil(limits.maxIntBytes * 2.41) + 1) {
      throw new PickleError(`pickle: ${what} integer of ${s.length} digits at offset ${pos} exceeds the ${limits.maxIntBytes}-byte limit (maxIntBytes)`);
    }
    return s;
  };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number, what: string) => {
    if (n < 0 || pos + n > data.length) throw new PickleError(`pickle: truncated data reading ${what} at offset ${pos}`);
  };
  const u8 = () => (need(1, 'a byte'), data[pos++]);
  const u16 = () => (need(2, 'uint16'), (pos += 2), view.getUint16(pos - 2, true));
  const i32 = () => (need(4, 'int32'), (pos += 4), view.getInt32(pos - 4, true));
  const u32 = () => (need(4, 'uint32'), (pos += 4), view.getUint32(pos - 4, true));
  const u64 = () => {
    need(8, 'uint64');
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.length)) throw new PickleError(`pickle: length ${v} exceeds the data size`);
    return Number(v);
  };
  const bytes = (n: number) => (need(n, `${n} bytes`), (pos += n), data.subarray(pos - n, pos));
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError(`pickle: truncated data reading a text line at offset ${pos}`);
    const s = new TextDecoder('latin1').decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const str = (b: Uint8Array) => {
    try {
      return utf8.decode(b);
    } catch {
      throw new PickleError(`pickle: invalid UTF-8 string at offset ${pos - b.length}`);
    }
  };
  const pop = () => {
    if (stack.length === 0) throw new PickleError(`pickle: stack underflow at offset ${pos - 1}`);
    const v = stack.pop();
    if (v === MARK) throw new PickleError(`pickle: unexpected MARK at offset ${pos - 1}`);
    return v;
  };
  const top = () => {
    if (stack.length === 0) throw new PickleError(`pickle: stack underflow at offset ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) throw new PickleError(`pickle: no MARK on the stack at offset ${pos - 1}`);
    stack = prev;
    return items;
  };
  const memoGet = (i: number) => {
    if (!memo.has(i)) throw new PickleError(`pickle: memo key ${i} not found at offset ${pos}`);
    return memo.get(i);
  };
  const global = (module: string, name: string) => {
    const g = options.resolveGlobal(module, name);
    if (!g) throw new PickleError(`pickle: global "${module}.${name}" is not allowed (only plain tensors and containers are accepted)`);
    return g;
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) throw new PickleError(`pickle: SETITEM(S) on a non-dict at offset ${pos - 1}`);
    if (items.length % 2 !== 0) throw new PickleError(`pickle: odd number of dict items at offset ${pos - 1}`);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };
  const appendItems = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list)) throw new PickleError(`pickle: APPEND(S) on a non-list at offset ${pos - 1}`);
    // One push per item: a spread of a huge MARK group would overflow the call stack.
    for (const v of items) list.push(v);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    if (CREATES_VALUE[op] && ++objects > limits.maxObjects) {
      throw new PickleError(`pickle: more than ${limits.maxObjects} values (limit maxObjects) at offset ${at}; not a plain checkpoint`);
    }
    switch (op) {
      case 0x80: { // PROTO
        const proto = u8();
        if (proto > 5) throw new PickleError(`pickle: unsupported protocol ${proto}`);
        break;
      }
      case 0x95: u64(); break; // FRAME: framing is transparent here
      case 0x2e: { // STOP
        const result = pop();
        checkStructure(result, limits.maxDepth);
        return result;
      }
      case 0x28: metastack.push(stack); stack = []; break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(bytes(u8()))); break; // LONG1
      case 0x8b: stack.push(decodeLong(bytes(intBytes(u32(), 'LONG4')))); break; // LONG4
      case 0x49: { // INT (text); "00"/"01" are protocol-0 booleans
        const s = line();
        if (s === '00' || s === '01') stack.push(s === '01');
        else if (/^[-+]?\d+$/.test(intText(s, 'INT'))) stack.push(narrowInt(BigInt(s)));
        else throw new PickleError(`pickle: bad INT "${s}"`);
        break;
      }
      case 0x4c: { // LONG (text)
        const s = intText(line().replace(/L$/, ''), 'LONG');
        if (!/^[-+]?\d+$/.test(s)) throw new PickleError(`pickle: bad LONG "${s.slice(0, 40)}"`);
        stack.push(narrowInt(BigInt(s)));
        break;
      }
      case 0x47: stack.push((need(8, 'float64'), (pos += 8), view.getFloat64(pos - 8, false))); break; // BINFLOAT (big-endian)
      case 0x46: { // FLOAT (text)
        const v = Number(line());
        if (Number.isNaN(v)) throw new PickleError('pickle: bad FLOAT');
        stack.push(v);
        break;
      }
      case 0x58: stack.push(str(bytes(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(str(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(str(bytes(u64()))); break; // BINUNICODE8
      // Python 2 byte strings: decoded as latin-1 (what torch.load's encoding='latin1' does)
      case 0x54: stack.push(new TextDecoder('latin1').decode(bytes(u32()))); break; // BINSTRING
      case 0x55: stack.push(new TextDecoder('latin1').decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(bytes(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(bytes(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(bytes(u64()).slice()); break; // BINBYTES8
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: { const items = popMark(); stack.push(items); break; } // TUPLE (popMark swaps `stack`)
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: { const items = popMark(); stack.push(items); break; } // LIST
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const items = popMark(); const d = new Map(); setItems(d, items); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) throw new PickleError('pickle: ADDITEMS on a non-set');
        for (const v of items) s.add(v);
        break;
      }
      case 0x91: { const items = popMark(); stack.push(new Set(items)); break; } // FROZENSET
      case 0x70: memo.set(Number(line()), top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x67: stack.push(memoGet(Number(line()))); break; // GET
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError('pickle: STACK_GLOBAL needs two strings');
        stack.push(global(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyCallable)) {
          const what = fn instanceof PyClassRef ? `"${fn.qualifiedName}"` : 'a non-callable value';
          throw new PickleError(`pickle: REDUCE of ${what} at offset ${at} is not allowed`);
        }
        if (!Array.isArray(args)) throw new PickleError(`pickle: REDUCE arguments of "${fn.qualifiedName}" are not a tuple`);
        stack.push(fn.call(args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (!options.build) throw new PickleError(`pickle: BUILD (setstate) at offset ${at} is not allowed`);
        options.build(obj, state);
        break;
      }
      case 0x50: { // PERSID
        if (!options.persistentLoad) throw new PickleError('pickle: persistent ids are not allowed here');
        stack.push(options.persistentLoad(line()));
        break;
      }
      case 0x51: { // BINPERSID
        if (!options.persistentLoad) throw new PickleError('pickle: persistent ids are not allowed here');
        stack.push(options.persistentLoad(pop()));
        break;
      }
      default:
        // INST, OBJ, NEWOBJ(_EX), EXT*, STRING/UNICODE (escaped text), buffers, ...
        throw new PickleError(`pickle: opcode ${opcodeName(op)} at offset ${at} is not allowed`);
    }
  }
}
