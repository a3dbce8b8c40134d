// A pickle virtual machine for data, not code: it understands the opcodes of protocols 2-4 that
// describe values and containers, and resolves every GLOBAL through the caller's allow-list
// (`findGlobal`), so unpickling can never run anything the caller did not write.

/** A Python dict (insertion-ordered, any key); `attributes` holds state set by BUILD (e.g. OrderedDict._metadata). */
export class PyDict {
  readonly items = new Map<unknown, unknown>();
  attributes: unknown = undefined;
}

/** What an allowed GLOBAL resolves to: a function that REDUCE/NEWOBJ call with the argument tuple. */
export type PyCallable = (args: unknown[]) => unknown;

export interface UnpickleHooks {
  /** The object `module.name` stands for (a PyCallable if REDUCE may call it), or throw to reject it. */
  findGlobal(module: string, name: string): unknown;
  /** The object for a persistent id (BINPERSID); throw to reject it. */
  persistentLoad(pid: unknown): unknown;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Python ints become numbers, or bigints beyond 2^53. */
function intValue(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Two's-complement little-endian bytes (LONG1/LONG4). */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] as number);
  if ((bytes[bytes.length - 1] as number) & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return intValue(v);
}

/**
 * Runs the pickle program in `bytes` and returns the object it builds. Throws an Error naming the
 * byte offset for anything malformed or unsupported.
 */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks): unknown {
  return unpickleAt(bytes, 0, hooks).value;
}

/** The same for one of several pickles in a row: runs the program at `start`; `end` is just past its STOP. */
export function unpickleAt(bytes: Uint8Array, start: number, hooks: UnpickleHooks): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  let opAt = start;

  const fail = (problem: string): never => {
    throw new Error(`pickle byte ${opAt}: ${problem}`);
  };
  const take = (n: number): Uint8Array => {
    if (pos + n > bytes.length) fail('the data ends in the middle of an instruction (truncated)');
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = () => take(1)[0] as number;
  const u32 = () => view.getUint32(take(4).byteOffset - bytes.byteOffset, true);
  const u64 = () => {
    const v = view.getBigUint64(take(8).byteOffset - bytes.byteOffset, true);
    if (v > BigInt(bytes.length)) fail(`length ${v} is larger than the data`);
    return Number(v);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('the data ends in the middle of a text line (truncated)');
    const text = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const utf8 = (n: number): string => {
    const raw = take(n);
    try {
      return textDecoder.decode(raw);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= (marks[marks.length - 1] as number))) {
      fail('the stack is empty');
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('the stack is empty');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const at = marks.pop();
    if (at === undefined) return fail('no MARK to pop to');
    return stack.splice(at);
  };
  const memoGet = (key: number) => {
    if (!memo.has(key)) fail(`memo key ${key} was never stored`);
    return memo.get(key);
  };
  const dictOf = (target: unknown): PyDict => {
    if (!(target instanceof PyDict)) fail('SETITEM(S) on something that is not a dict');
    return target as PyDict;
  };
  const listOf = (target: unknown): unknown[] => {
    if (!Array.isArray(target)) fail('APPEND(S) on something that is not a list');
    return target as unknown[];
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (typeof fn !== 'function') fail('REDUCE on something that is not an allowed callable');
    if (!Array.isArray(args)) fail('REDUCE arguments are not a tuple');
    return (fn as PyCallable)(args as unknown[]);
  };
  const global = (module: string, name: string) => {
    stack.push(hooks.findGlobal(module, name));
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: a length prefix we do not need
        take(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length > 0) fail(`STOP with ${stack.length} objects on the stack`);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(take(4).byteOffset - bytes.byteOffset, true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(take(2).byteOffset - bytes.byteOffset, true));
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(decodeLong(take(u32())));
        break;
      case 0x49: {
        // INT (text): also True/False as "01"/"00"
        const text = line();
        if (text === '01' || text === '00') stack.push(text === '01');
        else if (/^-?\d+$/.test(text)) stack.push(intValue(BigInt(text)));
        else fail(`bad INT ${JSON.stringify(text)}`);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(take(8).byteOffset - bytes.byteOffset, false));
        break;
      case 0x46: {
        // FLOAT (text)
        const value = Number(line());
        if (Number.isNaN(value)) fail('bad FLOAT');
        stack.push(value);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        listOf(top()).push(item);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        listOf(top()).push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const dict = new PyDict();
        for (let i = 0; i + 1 < items.length; i += 2) dict.items.set(items[i], items[i + 1]);
        stack.push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        dictOf(top()).items.set(key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
        const dict = dictOf(top());
        for (let i = 0; i < items.length; i += 2) dict.items.set(items[i], items[i + 1]);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) fail('ADDITEMS on something that is not a set');
        for (const item of items) (set as Set<unknown>).add(item);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number(line()), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: // GET (text)
        stack.push(memoGet(Number(line())));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        global(module, line());
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        global(module as string, name as string);
        break;
      }
      case 0x52: // REDUCE
      case 0x81: {
        // NEWOBJ (cls, args): treated as a call, which is what it means for the allowed globals
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD: only dicts take state (an OrderedDict's attributes such as _metadata)
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict)) fail('BUILD on an object that takes no state');
        (target as PyDict).attributes = state;
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
