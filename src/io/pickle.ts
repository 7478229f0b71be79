// A restricted pickle machine (protocols 0-5) that builds plain data and never runs anything: a
// global is only a name handed to the caller's policy, which returns a token or refuses; REDUCE,
// NEWOBJ and BUILD go to that policy too. Every read is bounds-checked, so a truncated or
// crafted stream ends in a PickleError, never in a crash or an allocation the input did not pay for.

export class PickleError extends Error {}

/** Python tuples come back as frozen arrays, lists as arrays, dicts as PickleDict. */
export type PickleKey = string | number | bigint | boolean | null;

export class PickleDict {
  readonly map = new Map<PickleKey, unknown>();
  /** The class that made it (e.g. 'collections.OrderedDict'), or 'dict'. */
  constructor(readonly kind = 'dict') {}
}

export interface PicklePolicy {
  /** A token for module.name, or a thrown PickleError that names what was refused. */
  global(module: string, name: string): unknown;
  /** What a persistent id (BINPERSID) stands for. */
  persistentLoad(pid: unknown): unknown;
  /** REDUCE: callable(*args). */
  call(callable: unknown, args: readonly unknown[]): unknown;
  /** NEWOBJ/NEWOBJ_EX: cls.__new__(cls, *args). */
  newObject(cls: unknown, args: readonly unknown[]): unknown;
  /** BUILD: obj.__setstate__(state); returns the object left on the stack. */
  build(obj: unknown, state: unknown): unknown;
}

const MARK = Symbol('mark');
const MAX_LINE = 4096;
const MAX_LONG_BYTES = 1024;

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'tuple' : 'list';
  if (v instanceof PickleDict) return v.kind;
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}

function key(v: unknown): PickleKey {
  if (v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v)) return v as PickleKey;
  throw new PickleError(`a dictionary key of type ${describe(v)} is not supported`);
}

/** Runs the pickle in `data` under `policy` and returns the object STOP leaves. */
export function unpickle(data: Uint8Array, policy: PicklePolicy): unknown {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number) => {
    if (n < 0 || pos + n > buf.length) throw new PickleError(`the pickle is truncated (needs ${n} more bytes at offset ${pos})`);
  };
  const u8 = () => { need(1); return buf[pos++]; };
  const u16 = () => { need(2); const v = buf.readUInt16LE(pos); pos += 2; return v; };
  const u32 = () => { need(4); const v = buf.readUInt32LE(pos); pos += 4; return v; };
  const i32 = () => { need(4); const v = buf.readInt32LE(pos); pos += 4; return v; };
  const u64 = () => {
    need(8);
    const v = buf.readBigUInt64LE(pos);
    pos += 8;
    if (v > BigInt(buf.length)) throw new PickleError(`the pickle declares ${v} bytes at offset ${pos - 8}, more than it holds`);
    return Number(v);
  };
  const bytes = (n: number) => { need(n); const v = buf.subarray(pos, pos + n); pos += n; return v; };
  const line = () => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0 || end - pos > MAX_LINE) throw new PickleError(`the pickle has an unterminated text field at offset ${pos}`);
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) throw new PickleError(`the pickle pops an empty stack at offset ${pos - 1}`);
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw new PickleError(`the pickle reads an empty stack at offset ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) throw new PickleError(`the pickle has no MARK for the opcode at offset ${pos - 1}`);
    return stack.splice(m);
  };
  const fromMemo = (i: number) => {
    if (!memo.has(i)) throw new PickleError(`the pickle reads memo slot ${i}, which was never written`);
    return memo.get(i);
  };
  const signedLE = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    if (b.length > MAX_LONG_BYTES) throw new PickleError(`the pickle has a ${b.length}-byte integer`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v;
  };
  const textInt = (s: string): number | bigint | boolean => {
    if (s === '01') return true;
    if (s === '00') return false;
    const t = s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[-+]?\d+$/.test(t)) throw new PickleError(`the pickle has a bad integer '${s.slice(0, 40)}'`);
    const v = BigInt(t);
    return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  };
  const unquote = (s: string): string => {
    if (s.length < 2 || s[0] !== s[s.length - 1] || (s[0] !== "'" && s[0] !== '"')) throw new PickleError('the pickle has a badly quoted STRING');
    return s.slice(1, -1);
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof PickleDict)) throw new PickleError(`SETITEMS on a ${describe(target)}`);
    if (items.length % 2) throw new PickleError('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) target.map.set(key(items[i]), items[i + 1]);
  };
  const append = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target) || Object.isFrozen(target)) throw new PickleError(`APPEND on a ${describe(target)}`);
    for (const it of items) target.push(it);
  };
  const tuple = (items: unknown[]) => Object.freeze(items);
  const args = (v: unknown): readonly unknown[] => {
    if (!Array.isArray(v)) throw new PickleError(`call arguments are a ${describe(v)}, not a tuple`);
    return v;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const proto = u8();
        if (proto > 5) throw new PickleError(`pickle protocol ${proto} is newer than this reader (0-5)`);
        break;
      }
      case 0x95: u64(); break; // FRAME: the framed bytes follow inline
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length) throw new PickleError('the pickle stops with a malformed stack');
        return stack[0];
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x49: stack.push(textInt(line())); break; // INT
      case 0x4c: stack.push(textInt(line())); break; // LONG
      case 0x8a: stack.push(signedLE(bytes(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0 || n > MAX_LONG_BYTES) throw new PickleError(`the pickle has a ${n}-byte integer`);
        stack.push(signedLE(bytes(n)));
        break;
      }
      case 0x46: { // FLOAT
        const s = line();
        const v = Number(s);
        if (s.trim() === '' || (Number.isNaN(v) && !/^[-+]?nan$/i.test(s.trim()))) throw new PickleError(`the pickle has a bad float '${s.slice(0, 40)}'`);
        stack.push(v);
        break;
      }
      case 0x47: need(8); stack.push(buf.readDoubleBE(pos)); pos += 8; break; // BINFLOAT
      case 0x58: stack.push(bytes(u32()).toString('utf8')); break; // BINUNICODE
      case 0x8c: stack.push(bytes(u8()).toString('utf8')); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(bytes(u64()).toString('utf8')); break; // BINUNICODE8
      case 0x56: stack.push(line()); break; // UNICODE (raw-unicode-escape; names here are ASCII)
      case 0x53: stack.push(unquote(line())); break; // STRING
      case 0x54: stack.push(bytes(u32()).toString('latin1')); break; // BINSTRING (Python 2 str)
      case 0x55: stack.push(bytes(u8()).toString('latin1')); break; // SHORT_BINSTRING
      case 0x42: stack.push(Uint8Array.from(bytes(u32()))); break; // BINBYTES
      case 0x43: stack.push(Uint8Array.from(bytes(u8()))); break; // SHORT_BINBYTES
      case 0x8e: stack.push(Uint8Array.from(bytes(u64()))); break; // BINBYTES8
      case 0x96: stack.push(Uint8Array.from(bytes(u64()))); break; // BYTEARRAY8
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(tuple([a, b, c])); break; } // TUPLE3
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x7d: stack.push(new PickleDict()); break; // EMPTY_DICT
      case 0x64: { const d = new PickleDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: stack.push([]); break; // EMPTY_SET (as a list of its items)
      case 0x90: { const items = popMark(); append(top(), items); break; } // ADDITEMS
      case 0x91: stack.push(tuple(popMark())); break; // FROZENSET
      case 0x67: stack.push(fromMemo(textInt(line()) as number)); break; // GET
      case 0x68: stack.push(fromMemo(u8())); break; // BINGET
      case 0x6a: stack.push(fromMemo(u32())); break; // LONG_BINGET
      case 0x70: memo.set(textInt(line()) as number, top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x63: { // GLOBAL
        const module = line(), name = line();
        stack.push(policy.global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw new PickleError('STACK_GLOBAL needs two strings');
        stack.push(policy.global(module, name));
        break;
      }
      case 0x51: stack.push(policy.persistentLoad(pop())); break; // BINPERSID
      case 0x50: stack.push(policy.persistentLoad(line())); break; // PERSID
      case 0x52: { const a = pop(), f = pop(); stack.push(policy.call(f, args(a))); break; } // REDUCE
      case 0x81: { const a = pop(), cls = pop(); stack.push(policy.newObject(cls, args(a))); break; } // NEWOBJ
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop(), a = pop(), cls = pop();
        if (!(kwargs instanceof PickleDict) || kwargs.map.size) throw new PickleError('NEWOBJ_EX with keyword arguments is not supported');
        stack.push(policy.newObject(cls, args(a)));
        break;
      }
      case 0x62: { const state = pop(); stack.push(policy.build(pop(), state)); break; } // BUILD
      case 0x69: throw new PickleError(`the pickle uses INST (old-style instance of ${line()}.${line()}), which a state dict never needs`);
      case 0x6f: throw new PickleError('the pickle uses OBJ (builds an arbitrary object), which a state dict never needs');
      case 0x82: case 0x83: case 0x84: throw new PickleError('the pickle uses the copyreg extension registry, which a state dict never needs');
      case 0x97: case 0x98: throw new PickleError('the pickle uses out-of-band buffers, which a state dict never needs');
      default: throw new PickleError(`the pickle has an unknown opcode 0x${op.toString(16).padStart(2, '0')} at offset ${pos - 1}`);
    }
  }
}
