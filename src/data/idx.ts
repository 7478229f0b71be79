// The IDX format of MNIST and Fashion-MNIST: big-endian header (0, 0, type, ndims, dims…) then the
// raw array. Only unsigned bytes (type 0x08) are used by image datasets. Gzipped files are
// recognised by their magic bytes, so `.gz` and plain files both work.
import { readDataFile } from './read-file.js';
import { gunzipSync } from 'node:zlib';
import { CorruptFileError, NotAnArchiveError, TruncatedFileError } from './errors.js';

export interface IdxArray {
  dims: number[];
  /** A view into the file's bytes after the header (no copy). */
  data: Uint8Array;
}

const UINT8 = 0x08;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses if gzipped; `label` names the file in errors. */
export function gunzipIfNeeded(bytes: Uint8Array, label: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e.message)) {
      throw new TruncatedFileError(`${label} is truncated (gzip stream ends early)`);
    }
    throw new NotAnArchiveError(`${label} is a corrupt gzip file (${e.message})`);
  }
}

export function parseIdx(raw: Uint8Array, label = 'IDX data'): IdxArray {
  const bytes = gunzipIfNeeded(raw, label);
  if (bytes.length < 4) throw new TruncatedFileError(`${label} is truncated: ${bytes.length} bytes, no IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new CorruptFileError(`${label} is not an IDX file (magic ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('')})`);
  }
  if (bytes[2] !== UINT8) throw new CorruptFileError(`${label}: IDX element type 0x${bytes[2]!.toString(16)} is not unsigned byte (0x08)`);
  const ndims = bytes[3]!;
  if (ndims < 1 || ndims > 4) throw new CorruptFileError(`${label}: IDX with ${ndims} dimensions is not supported`);
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) throw new TruncatedFileError(`${label} is truncated inside its IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const available = bytes.length - headerSize;
  if (available < count) {
    throw new TruncatedFileError(`${label} is truncated: dimensions ${dims.join('×')} need ${count} bytes of data, found ${available}`);
  }
  if (available > count) {
    throw new CorruptFileError(`${label}: ${available - count} bytes follow the ${dims.join('×')} array`);
  }
  // A plain Uint8Array view (not a Buffer), so consumers see one array type whatever the source.
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerSize, count) };
}

export async function readIdxFile(file: string): Promise<IdxArray> {
  return parseIdx(await readDataFile(file), file);
}

/** Encodes a uint8 IDX array (used by the bundled-data script and by tests). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const headerSize = 4 + 4 * dims.length;
  const out = new Uint8Array(headerSize + data.length);
  const view = new DataView(out.buffer);
  out[2] = UINT8;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, headerSize);
  return out;
}
