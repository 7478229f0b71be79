// A read-only ZIP reader for archives held in memory (PyTorch's .pth files): the central
// directory (ZIP64 too) gives names, sizes and offsets, since torch writes its local headers
// with zero sizes and a data descriptor. Every offset and size is checked against the buffer;
// stored and deflated entries are read, deflated ones through node:zlib with an output cap.
import { crc32, inflateRawSync } from 'node:zlib';

export class ZipError extends Error {}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  /** The uncompressed size the central directory declares. */
  size: number;
  /** Where the entry's bytes begin in the archive. */
  dataOffset: number;
}

const EOCD = 0x06054b50, ZIP64_EOCD = 0x06064b50, ZIP64_LOCATOR = 0x07064b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
const MAX_ENTRIES = 1_000_000;
const MAX_COMMENT = 0xffff;

function u64(buf: Buffer, at: number, what: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError(`${what} is out of range (${v})`);
  return Number(v);
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();

  private constructor(private readonly buf: Buffer) {}

  /** Parses the directory; refuses archives that are truncated, multi-disk, encrypted or inconsistent. */
  static open(buf: Buffer): ZipArchive {
    const zip = new ZipArchive(buf);
    const { count, dirOffset, dirSize } = zip.endOfDirectory();
    let at = dirOffset;
    const dirEnd = dirOffset + dirSize;
    for (let i = 0; i < count; i++) {
      if (at + 46 > dirEnd || buf.readUInt32LE(at) !== CENTRAL) throw new ZipError(`the central directory is corrupt at entry ${i + 1} of ${count}`);
      const flags = buf.readUInt16LE(at + 8);
      const method = buf.readUInt16LE(at + 10);
      const crc = buf.readUInt32LE(at + 16);
      let compressedSize = buf.readUInt32LE(at + 20);
      let size = buf.readUInt32LE(at + 24);
      const nameLen = buf.readUInt16LE(at + 28), extraLen = buf.readUInt16LE(at + 30), commentLen = buf.readUInt16LE(at + 32);
      let localOffset = buf.readUInt32LE(at + 42);
      const next = at + 46 + nameLen + extraLen + commentLen;
      if (next > dirEnd) throw new ZipError(`the central directory is corrupt at entry ${i + 1} of ${count}`);
      const name = buf.toString('utf8', at + 46, at + 46 + nameLen);
      // ZIP64: the 0xffffffff fields come, in this order, from the extra field with id 1.
      if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
        let e = at + 46 + nameLen;
        const extraEnd = e + extraLen;
        let found = false;
        while (e + 4 <= extraEnd) {
          const id = buf.readUInt16LE(e), len = buf.readUInt16LE(e + 2);
          if (e + 4 + len > extraEnd) break;
          if (id === 1) {
            let p = e + 4;
            const take = (): number => {
              if (p + 8 > e + 4 + len) throw new ZipError(`entry '${name}' has a short ZIP64 extra field`);
              const v = u64(buf, p, `entry '${name}' ZIP64 field`);
              p += 8;
              return v;
            };
            if (size === 0xffffffff) size = take();
            if (compressedSize === 0xffffffff) compressedSize = take();
            if (localOffset === 0xffffffff) localOffset = take();
            found = true;
          }
          e += 4 + len;
        }
        if (!found) throw new ZipError(`entry '${name}' lacks its ZIP64 sizes`);
      }
      if (flags & 1) throw new ZipError(`entry '${name}' is encrypted`);
      if (method !== 0 && method !== 8) throw new ZipError(`entry '${name}' uses compression method ${method} (only stored and deflated are read)`);
      if (method === 0 && compressedSize !== size) throw new ZipError(`entry '${name}' is stored but declares ${size} bytes in ${compressedSize}`);
      if (zip.entries.has(name)) throw new ZipError(`entry '${name}' appears twice`);
      if (localOffset + 30 > dirOffset || buf.readUInt32LE(localOffset) !== LOCAL) throw new ZipError(`entry '${name}' points at no local header (offset ${localOffset})`);
      const dataOffset = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
      if (dataOffset + compressedSize > dirOffset) {
        throw new ZipError(`entry '${name}' runs past the end of the data (${compressedSize} bytes at ${dataOffset}; truncated?)`);
      }
      zip.entries.set(name, { name, method, crc32: crc, compressedSize, size, dataOffset });
      at = next;
    }
    return zip;
  }

  /** The end-of-central-directory record (and its ZIP64 form), checked against the buffer. */
  private endOfDirectory(): { count: number; dirOffset: number; dirSize: number } {
    const buf = this.buf;
    let eocd = -1;
    for (let at = buf.length - 22; at >= Math.max(0, buf.length - 22 - MAX_COMMENT); at--) {
      if (buf.readUInt32LE(at) === EOCD && at + 22 + buf.readUInt16LE(at + 20) === buf.length) {
        eocd = at;
        break;
      }
    }
    if (eocd < 0) throw new ZipError('it has no ZIP end-of-directory record (truncated or not a ZIP archive)');
    if (buf.readUInt16LE(eocd + 4) !== 0 || buf.readUInt16LE(eocd + 6) !== 0) throw new ZipError('it is a multi-disk ZIP archive');
    let count = buf.readUInt16LE(eocd + 10);
    let dirSize = buf.readUInt32LE(eocd + 12);
    let dirOffset = buf.readUInt32LE(eocd + 16);
    let dirLimit = eocd;
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || buf.readUInt32LE(locator) !== ZIP64_LOCATOR) throw new ZipError('its ZIP64 end-of-directory locator is missing');
      const record = u64(buf, locator + 8, 'the ZIP64 end-of-directory offset');
      if (record + 56 > locator || buf.readUInt32LE(record) !== ZIP64_EOCD) throw new ZipError('its ZIP64 end-of-directory record is missing');
      count = u64(buf, record + 32, 'the ZIP64 entry count');
      dirSize = u64(buf, record + 40, 'the ZIP64 directory size');
      dirOffset = u64(buf, record + 48, 'the ZIP64 directory offset');
      dirLimit = record;
    }
    if (count > MAX_ENTRIES) throw new ZipError(`it declares ${count} entries (more than ${MAX_ENTRIES})`);
    if (dirOffset + dirSize > dirLimit || count * 46 > dirSize) {
      throw new ZipError('its central directory lies outside the file (truncated?)');
    }
    return { count, dirOffset, dirSize };
  }

  /**
   * The bytes of one entry. Deflated entries inflate to at most `maxBytes` (and never past their
   * declared size), so a small entry cannot expand into gigabytes; the CRC is checked when present.
   */
  read(entry: ZipEntry, maxBytes: number): Buffer {
    if (entry.size > maxBytes) throw new ZipError(`entry '${entry.name}' declares ${entry.size} bytes, more than the ${maxBytes} it may hold`);
    const raw = this.buf.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
    let out: Buffer;
    if (entry.method === 0) {
      out = raw;
    } else {
      try {
        out = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ERR_BUFFER_TOO_LARGE') throw new ZipError(`entry '${entry.name}' inflates past its declared ${entry.size} bytes (a zip bomb?)`);
        throw new ZipError(`entry '${entry.name}' does not inflate (${(err as Error).message})`);
      }
      if (out.length !== entry.size) throw new ZipError(`entry '${entry.name}' inflates to ${out.length} bytes, not the ${entry.size} it declares`);
    }
    // torch can be told to skip checksums, and then writes 0.
    if (entry.crc32 !== 0 && crc32(out) !== entry.crc32) throw new ZipError(`entry '${entry.name}' fails its CRC-32 check (the file is corrupt)`);
    return out;
  }
}
