// Image checks for tests: a perceptual hash (dHash, as sharp's own test suite compares
// images) and hand-made bad files.
import { writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** 64-bit difference hash: 9x8 grayscale thumbnail, one bit per left<right neighbour pair. */
export async function dHash(file: string): Promise<bigint> {
  const px = await sharp(file).greyscale().normalise().resize(9, 8, { fit: 'fill' }).raw().toBuffer();
  let bits = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) bits = (bits << 1n) | (px[y * 9 + x] < px[y * 9 + x + 1] ? 1n : 0n);
  }
  return bits;
}

export function hamming(a: bigint, b: bigint): number {
  let d = a ^ b, n = 0;
  while (d) { n += Number(d & 1n); d >>= 1n; }
  return n;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG whose header claims width×height (8-bit gray) but that holds almost no pixel data. */
export function writeHugePngHeader(path: string, width: number, height: number): void {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 0; // bit depth 8, grayscale
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  writeFileSync(path, Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00])), chunk('IEND', Buffer.alloc(0))]));
}
