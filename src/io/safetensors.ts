// safetensors: u64 little-endian header length, a JSON header (dtype, shape, byte offsets per
// tensor, string-valued __metadata__), then the raw little-endian bytes. Files written here
// load in Python's `safetensors` unchanged.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from './atomic-write.js';
import { CnnError } from '../errors.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';

export type DType = 'F32' | 'F64' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<DType, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  /** The dtype each tensor had on disk (values are always returned as float32). */
  dtypes: Map<string, DType>;
  metadata: Record<string, string>;
}

/** A file that breaks the safetensors format (exit 2). */
export class SafetensorsError extends CnnError {}

/** An entry to write: a tensor, stored as float32 unless dtype says I64 (e.g. counters). */
export type Entry = Tensor | { tensor: Tensor; dtype: 'F32' | 'I64' };

interface HeaderEntry {
  dtype: DType;
  shape: number[];
  data_offsets: [number, number];
}

/** Where a tensor's bytes lie, relative to the start of the data section. */
interface TensorSlot {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

interface ParsedHeader {
  slots: TensorSlot[];
  metadata: Record<string, string>;
}

/** As the reference reader: a larger header is refused before it is read. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * The keys of the top-level JSON object in source order, duplicates included (JSON.parse keeps
 * only the last of a duplicated key, and the format forbids them). Runs on text JSON.parse accepted.
 */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0, expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const ch = json[i];
    if (ch === '"') {
      const start = i;
      for (i++; i < json.length && json[i] !== '"'; i++) if (json[i] === '\\') i++;
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(start, i + 1)) as string);
      expectKey = false;
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = depth === 1 && ch === '{';
    } else if (ch === '}' || ch === ']') {
      depth--;
    } else if (ch === ',') {
      expectKey = depth === 1;
    }
  }
  return keys;
}

/** Validates a header against the format's rules; `dataLen` is the size of the data section. */
function parseHeader(text: string, dataLen: number, what: string): ParsedHeader {
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    throw new SafetensorsError(`${what} has a corrupt safetensors header`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError(`${what} has a corrupt safetensors header`);
  }
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) throw new SafetensorsError(`${what}: '${key}' appears twice in the header`);
    seen.add(key);
  }
  const slots: TensorSlot[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null) continue;
      if (typeof raw !== 'object' || Array.isArray(raw) || Object.values(raw as object).some((v) => typeof v !== 'string')) {
        throw new SafetensorsError(`${what}: __metadata__ must map names to strings`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as HeaderEntry;
    if (!e || typeof e !== 'object' || !Object.hasOwn(BYTES, e.dtype) || !Array.isArray(e.shape)
      || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      throw new SafetensorsError(`${what}: tensor '${name}' has an invalid header entry`);
    }
    if (!e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`${what}: tensor '${name}' has shape ${JSON.stringify(e.shape)}; dimensions must be non-negative integers`);
    }
    const [begin, end] = e.data_offsets;
    const bytes = e.shape.reduce((a, b) => a * b, 1) * BYTES[e.dtype];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end > dataLen || end - begin !== bytes) {
      throw new SafetensorsError(`${what}: tensor '${name}' has offsets [${begin}, ${end}] that do not fit its shape or the file (truncated?)`);
    }
    slots.push({ name, dtype: e.dtype, shape: e.shape, begin, end });
  }
  // The tensors must tile the data section exactly: no overlap, no hole, nothing after the last.
  const byOffset = [...slots].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const slot of byOffset) {
    if (slot.begin < pos) throw new SafetensorsError(`${what}: tensor '${slot.name}' overlaps another tensor's bytes (offset ${slot.begin})`);
    if (slot.begin > pos) throw new SafetensorsError(`${what}: ${slot.begin - pos} bytes before tensor '${slot.name}' belong to no tensor`);
    pos = slot.end;
  }
  if (pos !== dataLen) throw new SafetensorsError(`${what} has ${dataLen - pos} trailing bytes after its last tensor`);
  return { slots, metadata };
}

function headerLength(prefix: Buffer, fileLen: number, what: string): number {
  if (fileLen < 8) throw new SafetensorsError(`${what} is not a safetensors file (only ${fileLen} bytes)`);
  const headerLen = Number(prefix.readBigUInt64LE(0));
  if (headerLen > fileLen - 8 || headerLen > MAX_HEADER_BYTES) {
    throw new SafetensorsError(`${what} is not a safetensors file or is truncated (header length ${headerLen}, file ${fileLen} bytes)`);
  }
  return headerLen;
}

function assemble(header: ParsedHeader, bytesOf: (slot: TensorSlot) => Buffer): SafetensorsFile {
  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, DType>();
  for (const slot of header.slots) {
    tensors.set(slot.name, new Tensor(toFloat32(bytesOf(slot), shapeSize(slot.shape), slot.dtype), slot.shape));
    dtypes.set(slot.name, slot.dtype);
  }
  return { tensors, dtypes, metadata: header.metadata };
}

export function decodeSafetensors(buf: Buffer, what = 'file'): SafetensorsFile {
  const dataStart = 8 + headerLength(buf, buf.length, what);
  const header = parseHeader(buf.subarray(8, dataStart).toString('utf8'), buf.length - dataStart, what);
  return assemble(header, (slot) => buf.subarray(dataStart + slot.begin, dataStart + slot.end));
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `count` little-endian values of `dtype` from `buf`, as float32 (F16/BF16 exactly, I64 rounded). */
export function toFloat32(buf: Buffer, count: number, dtype: DType): Float32Array {
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      if (littleEndian) new Uint8Array(out.buffer).set(buf.subarray(0, 4 * count));
      else for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(4 * i);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = buf.readDoubleLE(8 * i);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(buf.readUInt16LE(2 * i));
      break;
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        tmp.setUint32(0, buf.readUInt16LE(2 * i) << 16);
        out[i] = tmp.getFloat32(0);
      }
      break;
    }
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(buf.readBigInt64LE(8 * i));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = buf.readInt32LE(4 * i);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = buf.readInt16LE(2 * i);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = buf.readInt8(i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = buf[i];
      break;
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function encodeSafetensors(entries: Record<string, Entry>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: { tensor: Tensor; dtype: 'F32' | 'I64' }[] = [];
  let offset = 0;
  for (const [name, entry] of Object.entries(entries)) {
    const e = entry instanceof Tensor ? { tensor: entry, dtype: 'F32' as const } : entry;
    const bytes = e.tensor.size * BYTES[e.dtype];
    header[name] = { dtype: e.dtype, shape: [...e.tensor.shape], data_offsets: [offset, offset + bytes] };
    parts.push(e);
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad so tensor data starts 8-byte aligned, as the reference implementation does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const { tensor, dtype } of parts) {
    if (dtype === 'F32') {
      for (let i = 0; i < tensor.size; i++, pos += 4) out.writeFloatLE(tensor.data[i], pos);
    } else {
      for (let i = 0; i < tensor.size; i++, pos += 8) out.writeBigInt64LE(BigInt(Math.round(tensor.data[i])), pos);
    }
  }
  return out;
}

/**
 * Reads the header first and then each tensor's bytes, so a bad header costs only its own bytes
 * and memory stays about the size of the tensors.
 */
export function loadSafetensors(path: string): SafetensorsFile {
  const fail = (err: unknown) => new SafetensorsError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fail(err);
  }
  try {
    let size: number;
    try {
      const stat = fstatSync(fd);
      if (stat.isDirectory()) throw new SafetensorsError(`cannot read ${path}: it is a folder`);
      size = stat.size;
    } catch (err) {
      throw err instanceof SafetensorsError ? err : fail(err);
    }
    const readAt = (length: number, position: number): Buffer => {
      const out = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        let n: number;
        try {
          n = readSync(fd, out, done, length - done, position + done);
        } catch (err) {
          throw fail(err);
        }
        if (n === 0) throw new SafetensorsError(`${path} is truncated (it shrank while being read)`);
        done += n;
      }
      return out;
    };
    const dataStart = 8 + headerLength(size >= 8 ? readAt(8, 0) : Buffer.alloc(8), size, path);
    const header = parseHeader(readAt(dataStart - 8, 8).toString('utf8'), size - dataStart, path);
    return assemble(header, (slot) => readAt(slot.end - slot.begin, dataStart + slot.begin));
  } finally {
    closeSync(fd);
  }
}

/** Written through the one atomic writer: a crash or a full disk never leaves a half file. */
export function saveSafetensors(path: string, entries: Record<string, Entry>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(entries, metadata));
}
