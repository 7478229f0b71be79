// What a split's images would take decoded (width × height × channels bytes each), estimated from
// the index without decoding: the files' sizes from the index, times the decoded bytes per file
// byte measured on a few files spread over the split (their headers give the pixel counts). Exact
// for splits no bigger than the sample; what decides whether decoded images are kept in memory.
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import type { FileIndex } from './file-index.js';
import { headerDimensions } from './image-size.js';

async function pixelCount(file: string): Promise<number> {
  try {
    const bytes = await fs.readFile(file);
    const known = headerDimensions(bytes);
    if (known) return known[0] * known[1];
    const meta = await sharp(bytes).metadata();
    return (meta.width ?? 0) * (meta.height ?? 0);
  } catch {
    return NaN; // Unreadable: decoding it reports it; the estimate goes by the others.
  }
}

export async function estimateDecodedBytes(index: FileIndex, channels: number, sample = 32): Promise<number> {
  const n = index.files.length;
  if (n === 0) return 0;
  const picks = n <= sample ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: sample }, (_, k) => Math.floor(((k + 0.5) * n) / sample));
  const pixels = await Promise.all(picks.map((i) => pixelCount(index.files.at(i))));
  let decoded = 0, fileBytes = 0, measured = 0;
  for (const [k, i] of picks.entries()) {
    if (!Number.isFinite(pixels[k]!) || !Number.isFinite(index.sizes[i]!)) continue;
    decoded += pixels[k]! * channels;
    fileBytes += index.sizes[i]!;
    measured++;
  }
  if (measured === 0) return NaN;
  if (n <= sample) return (decoded / measured) * n;
  let total = 0;
  for (const size of index.sizes) if (Number.isFinite(size)) total += size;
  // Decoded bytes per file byte; files of nothing (or a sample of them) fall back to the mean per image.
  return fileBytes > 0 ? total * (decoded / fileBytes) : (decoded / measured) * n;
}
