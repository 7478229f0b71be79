// Writes ustar archives byte by byte, so tests can build real (and deliberately bad) tar.gz files.
import { gzipSync } from 'node:zlib';

export interface TarEntry {
  name: string;
  data?: Uint8Array | string;
  /** '0' file (default), '5' directory, '2' symlink, '1' hard link. */
  type?: string;
  linkname?: string;
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value.slice(0, length), offset, length, 'utf8');
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  if (value < 8 ** (length - 1)) {
    writeString(block, offset, length - 1, value.toString(8).padStart(length - 1, '0'));
    return;
  }
  // GNU base-256, as tar writes sizes of 8 GiB and more: a 0x80 flag byte, then big-endian bytes.
  block[offset] = 0x80;
  for (let i = offset + length - 1, v = value; i > offset; i--, v = Math.floor(v / 256)) block[i] = v % 256;
}

export function tarHeader(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  writeString(block, 0, 100, entry.name);
  writeOctal(block, 100, 8, entry.type === '5' ? 0o755 : 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 1_700_000_000);
  block.fill(0x20, 148, 156);
  block.write(entry.type ?? '0', 156, 1, 'latin1');
  writeString(block, 157, 100, entry.linkname ?? '');
  block.write('ustar\u000000', 257, 8, 'latin1');
  let sum = 0;
  for (const b of block) sum += b;
  writeString(block, 148, 7, sum.toString(8).padStart(6, '0') + '\0');
  return block;
}

export function makeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
    parts.push(tarHeader(entry, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function makeTarGz(entries: readonly TarEntry[]): Buffer {
  return gzipSync(makeTar(entries));
}
