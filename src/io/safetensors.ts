// safetensors: u64 little-endian header length, a JSON header (dtype, shape, byte offsets per
// tensor, string-valued __metadata__), then the raw little-endian bytes. Files written here
// load in Python's `safetensors` unchanged.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { Tensor, shapeSize } from '../tensor/tensor.js';

export type DType = 'F32' | 'F64' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<DType, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  /** The dtype each tensor had on disk (values are always returned as float32). */
  dtypes: Map<string, DType>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {}

/** An entry to write: a tensor, stored as float32 unless dtype says I64 (e.g. counters). */
export type Entry = Tensor | { tensor: Tensor; dtype: 'F32' | 'I64' };

interface HeaderEntry {
  dtype: DType;
  shape: number[];
  data_offsets: [number, number];
}

export function decodeSafetensors(buf: Buffer, what = 'file'): SafetensorsFile {
  if (buf.length < 8) throw new SafetensorsError(`${what} is not a safetensors file (only ${buf.length} bytes)`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8 || headerLen > 100_000_000) {
    throw new SafetensorsError(`${what} is not a safetensors file or is truncated (header length ${headerLen}, file ${buf.length} bytes)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new SafetensorsError(`${what} has a corrupt safetensors header`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError(`${what} has a corrupt safetensors header`);
  }
  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, DType>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const e = raw as HeaderEntry;
    if (!e || !(e.dtype in BYTES) || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw new SafetensorsError(`${what}: tensor '${name}' has an invalid header entry`);
    }
    const [begin, end] = e.data_offsets;
    const count = shapeSize(e.shape);
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > dataLen || end - begin !== count * BYTES[e.dtype]) {
      throw new SafetensorsError(`${what}: tensor '${name}' has offsets [${begin}, ${end}] that do not fit its shape or the file (truncated?)`);
    }
    tensors.set(name, new Tensor(toFloat32(buf, dataStart + begin, count, e.dtype), e.shape));
    dtypes.set(name, e.dtype);
  }
  return { tensors, dtypes, metadata };
}

function toFloat32(buf: Buffer, offset: number, count: number, dtype: DType): Float32Array {
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(offset + 4 * i);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = buf.readDoubleLE(offset + 8 * i);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(buf.readUInt16LE(offset + 2 * i));
      break;
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        tmp.setUint32(0, buf.readUInt16LE(offset + 2 * i) << 16);
        out[i] = tmp.getFloat32(0);
      }
      break;
    }
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(buf.readBigInt64LE(offset + 8 * i));
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = buf.readInt32LE(offset + 4 * i);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = buf.readInt16LE(offset + 2 * i);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = buf.readInt8(offset + i);
      break;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = buf[offset + i];
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

export function loadSafetensors(path: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return decodeSafetensors(buf, path);
}

/** Writes to a temporary file, syncs it, then renames: a crash never leaves a half file. */
export function saveSafetensors(path: string, entries: Record<string, Entry>, metadata: Record<string, string> = {}): void {
  const buf = encodeSafetensors(entries, metadata);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, buf);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

