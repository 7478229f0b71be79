// Writes a state dict as torch.save (1.13) lays it out, for tests that need a large .pth (a
// resnet18) without Python: pickle protocol 2 with torch's opcodes and memo use, storages as
// stored ZIP entries aligned to 64 bytes with 'FB' padding, data descriptors after the data, and
// storage records in the lexicographic key order torch writes them. Validated against the
// torch-written test/fixtures/torch/small.pth in test/io/torch.test.ts.
import { crc32 } from 'node:zlib';
import type { Tensor } from '../../src/tensor/tensor.js';

export interface TorchEntry {
  key: string;
  tensor: Tensor;
  /** Storage type: F32 (FloatStorage) or I64 (LongStorage, e.g. num_batches_tracked). */
  dtype?: 'F32' | 'I64';
}

const STORAGE = { F32: 'FloatStorage', I64: 'LongStorage' } as const;

class PickleWriter {
  private readonly parts: Buffer[] = [];
  /** Memo slots of the objects written once and referenced again (globals, shared strings). */
  private readonly memo = new Map<string, number>();
  private next = 0;

  op(...bytes: number[]): void {
    this.parts.push(Buffer.from(bytes));
  }

  raw(b: Buffer): void {
    this.parts.push(b);
  }

  /** BINPUT / LONG_BINPUT of the next memo slot, as the pickler does for every memoized object. */
  put(): number {
    const i = this.next++;
    this.indexed(0x71, 0x72, i);
    return i;
  }

  private indexed(short: number, long: number, i: number): void {
    if (i < 256) return this.op(short, i);
    const b = Buffer.alloc(5);
    b[0] = long;
    b.writeUInt32LE(i, 1);
    this.raw(b);
  }

  /** BINGET of an object written before; false when it was not. */
  private get(id: string): boolean {
    const i = this.memo.get(id);
    if (i === undefined) return false;
    this.indexed(0x68, 0x6a, i);
    return true;
  }

  private remember(id: string): void {
    this.memo.set(id, this.put());
  }

  /** A string; `shared` ones (one Python object used many times) are memoized by value. */
  str(s: string, shared = false): void {
    if (shared && this.get(`s:${s}`)) return;
    const bytes = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 0x58;
    head.writeUInt32LE(bytes.length, 1);
    this.raw(head);
    this.raw(bytes);
    if (shared) this.remember(`s:${s}`);
    else this.put();
  }

  global(module: string, name: string): void {
    if (this.get(`g:${module}.${name}`)) return;
    this.raw(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
    this.remember(`g:${module}.${name}`);
  }

  int(n: number): void {
    if (n >= 0 && n < 256) this.op(0x4b, n);
    else if (n >= 0 && n < 65536) this.op(0x4d, n & 0xff, n >> 8);
    else {
      const b = Buffer.alloc(5);
      b[0] = 0x4a;
      b.writeInt32LE(n, 1);
      this.raw(b);
    }
  }

  tuple(items: number[]): void {
    if (items.length === 0) return this.op(0x29);
    if (items.length > 3) this.op(0x28);
    for (const v of items) this.int(v);
    this.op(items.length > 3 ? 0x74 : 0x84 + items.length);
    this.put();
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function contiguousStrides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let i = shape.length - 1, s = 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

/** The pickle torch.save writes for an OrderedDict of contiguous tensors, storage keys '0', '1', ... */
function statePickle(entries: TorchEntry[], versions: [string, number][]): Buffer {
  const p = new PickleWriter();
  p.op(0x80, 2);
  p.global('collections', 'OrderedDict');
  p.op(0x29, 0x52); // EMPTY_TUPLE REDUCE
  p.put();
  p.op(0x28); // MARK
  entries.forEach((e, i) => {
    p.str(e.key);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.op(0x28, 0x28);
    p.str('storage', true);
    p.global('torch', STORAGE[e.dtype ?? 'F32']);
    p.str(String(i));
    p.str('cpu', true);
    p.int(e.tensor.size);
    p.op(0x74); // TUPLE
    p.put();
    p.op(0x51); // BINPERSID
    p.int(0);
    p.tuple([...e.tensor.shape]);
    p.tuple(contiguousStrides(e.tensor.shape));
    p.op(0x89); // NEWFALSE
    p.global('collections', 'OrderedDict');
    p.op(0x29, 0x52);
    p.put();
    p.op(0x74);
    p.put();
    p.op(0x52);
    p.put();
  });
  p.op(0x75); // SETITEMS
  // state: {'_metadata': OrderedDict(prefix → {'version': v})}, then BUILD, as state_dict() keeps module versions
  p.op(0x7d);
  p.put();
  p.str('_metadata', true);
  p.global('collections', 'OrderedDict');
  p.op(0x29, 0x52);
  p.put();
  if (versions.length > 1) p.op(0x28);
  for (const [prefix, version] of versions) {
    p.str(prefix);
    p.op(0x7d);
    p.put();
    p.str('version', true);
    p.int(version);
    p.op(0x73);
  }
  p.op(versions.length > 1 ? 0x75 : 0x73); // SETITEMS, or SETITEM for one item
  p.op(0x73, 0x62, 0x2e); // SETITEM BUILD STOP
  return p.bytes();
}

function storageBytes(e: TorchEntry): Buffer {
  const t = e.tensor;
  if ((e.dtype ?? 'F32') === 'F32') return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const b = Buffer.alloc(8 * t.size);
  for (let i = 0; i < t.size; i++) b.writeBigInt64LE(BigInt(Math.round(t.data[i])), 8 * i);
  return b;
}

/** The ZIP archive torch's PyTorchStreamWriter writes (stored, 64-byte aligned, data descriptors). */
function torchZip(records: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of records) {
    const nameBytes = Buffer.from(name, 'utf8');
    const start = offset + 30 + nameBytes.length + 4;
    const pad = (64 - (start % 64)) % 64;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(0x0808, 6);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(4 + pad, 28);
    const extra = Buffer.alloc(4 + pad, 'Z');
    extra.write('FB', 0, 'latin1');
    extra.writeUInt16LE(pad, 2);
    const crc = crc32(data);
    const descriptor = Buffer.alloc(16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc, 4);
    descriptor.writeUInt32LE(data.length, 8);
    descriptor.writeUInt32LE(data.length, 12);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(0x0808, 8);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(data.length, 20);
    dir.writeUInt32LE(data.length, 24);
    dir.writeUInt16LE(nameBytes.length, 28);
    dir.writeUInt32LE(offset, 42);
    central.push(dir, nameBytes);
    parts.push(local, nameBytes, extra, data, descriptor);
    offset += local.length + nameBytes.length + extra.length + data.length + descriptor.length;
  }
  const dirBytes = Buffer.concat(central);
  // miniz as torch uses it always ends with a ZIP64 record and locator before the classic record.
  const zip64 = Buffer.alloc(56);
  zip64.writeUInt32LE(0x06064b50, 0);
  zip64.writeBigUInt64LE(44n, 4);
  zip64.writeUInt16LE(0x031e, 12);
  zip64.writeUInt16LE(45, 14);
  zip64.writeBigUInt64LE(BigInt(records.length), 24);
  zip64.writeBigUInt64LE(BigInt(records.length), 32);
  zip64.writeBigUInt64LE(BigInt(dirBytes.length), 40);
  zip64.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + dirBytes.length), 8);
  locator.writeUInt32LE(1, 16);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(records.length, 8);
  eocd.writeUInt16LE(records.length, 10);
  eocd.writeUInt32LE(dirBytes.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, dirBytes, zip64, locator, eocd]);
}

/**
 * The bytes torch.save(state_dict, '<folder>.pth') would write for these tensors; `versions` is
 * the state dict's _metadata (module prefix → its _version: 2 for BatchNorm, 1 otherwise).
 */
export function encodeTorchStateDict(entries: TorchEntry[], folder = 'archive', versions: [string, number][] = [['', 1]]): Buffer {
  const storages = entries.map((e, i) => [`${folder}/data/${i}`, storageBytes(e)] as [string, Buffer]);
  storages.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return torchZip([[`${folder}/data.pkl`, statePickle(entries, versions)], ...storages, [`${folder}/version`, Buffer.from('3\n')]]);
}
