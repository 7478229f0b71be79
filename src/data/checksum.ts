// File checksums and the "verified" marker: a second run finds data already checked by comparing
// size + mtime against a small JSON file instead of hashing hundreds of megabytes again.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { ChecksumMismatchError, TruncatedFileError } from './errors.js';

export type HashAlgorithm = 'md5' | 'sha256';

/** What a published file must look like. At least one of md5/sha256/sha256Prefix. */
export interface FileChecksum {
  /** Bytes; absent when the publisher does not say (torchvision's weights). */
  size?: number;
  md5?: string;
  sha256?: string;
  /** The first hex digits of the SHA-256, as torch.hub's file names carry them. */
  sha256Prefix?: string;
}

export const VERIFIED_MARKER = '.verified.json';

interface MarkerEntry {
  size: number;
  mtimeMs: number;
  algorithm: HashAlgorithm;
  checksum: string;
}

export async function hashFile(file: string, algorithm: HashAlgorithm): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function primaryChecksum(expected: FileChecksum): { algorithm: HashAlgorithm; value: string; prefix: boolean } {
  if (expected.sha256) return { algorithm: 'sha256', value: expected.sha256.toLowerCase(), prefix: false };
  if (expected.md5) return { algorithm: 'md5', value: expected.md5.toLowerCase(), prefix: false };
  if (expected.sha256Prefix) return { algorithm: 'sha256', value: expected.sha256Prefix.toLowerCase(), prefix: true };
  throw new TypeError('a FileChecksum needs md5, sha256 or sha256Prefix');
}

function hashMatches(hash: string, expected: FileChecksum): boolean {
  const { value, prefix } = primaryChecksum(expected);
  return prefix ? hash.startsWith(value) : hash === value;
}

export function describeChecksum(expected: FileChecksum): string {
  const { algorithm, value, prefix } = primaryChecksum(expected);
  const size = expected.size === undefined ? '' : `${expected.size.toLocaleString('en-US')} bytes, `;
  return `${size}${algorithm} ${value}${prefix ? '…' : ''}`;
}

async function readMarker(dir: string): Promise<Record<string, MarkerEntry>> {
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(path.join(dir, VERIFIED_MARKER), 'utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, MarkerEntry>) : {};
  } catch {
    return {};
  }
}

/** True when the marker says this exact file (size, mtime) was already hashed to the expected value. */
export async function isMarkedVerified(file: string, expected: FileChecksum): Promise<boolean> {
  const { algorithm, value } = primaryChecksum(expected);
  const [stat, marker] = await Promise.all([fs.stat(file), readMarker(path.dirname(file))]);
  const entry = marker[path.basename(file)];
  return entry !== undefined && entry.size === stat.size && entry.mtimeMs === stat.mtimeMs
    && entry.algorithm === algorithm && entry.checksum === value && (expected.size === undefined || stat.size === expected.size);
}

/** Records a verified file; best effort (a read-only folder such as /usr/share just skips it). */
export async function markVerified(file: string, expected: FileChecksum): Promise<void> {
  const { algorithm, value } = primaryChecksum(expected);
  const dir = path.dirname(file);
  try {
    const stat = await fs.stat(file);
    const marker = await readMarker(dir);
    marker[path.basename(file)] = { size: stat.size, mtimeMs: stat.mtimeMs, algorithm, checksum: value };
    writeFileAtomic(path.join(dir, VERIFIED_MARKER), JSON.stringify(marker, null, 2) + '\n');
  } catch {
    // Not being able to remember a verification only costs a re-hash next time.
  }
}

/**
 * Checks a file against one of the accepted checksums: size first (cheap, and it tells a truncated
 * file from a corrupt one), then the hash. Returns the checksum that matched.
 */
export async function verifyFile(file: string, accepted: readonly FileChecksum[], label = file, remember = true): Promise<FileChecksum> {
  if (accepted.length === 0) throw new TypeError('verifyFile needs at least one checksum');
  for (const expected of accepted) {
    if (await isMarkedVerified(file, expected).catch(() => false)) return expected;
  }
  const { size } = await fs.stat(file);
  const sized = accepted.filter((c) => c.size === undefined || c.size === size);
  if (sized.length === 0) {
    const want = accepted[0]!;
    if (size < want.size!) {
      throw new TruncatedFileError(`${label} is truncated: ${size.toLocaleString('en-US')} bytes, expected ${describeChecksum(want)}`);
    }
    throw new ChecksumMismatchError(`${label} has the wrong size: ${size.toLocaleString('en-US')} bytes, expected ${describeChecksum(want)}`);
  }
  const hashes = new Map<HashAlgorithm, string>();
  for (const expected of sized) {
    const { algorithm } = primaryChecksum(expected);
    if (!hashes.has(algorithm)) hashes.set(algorithm, await hashFile(file, algorithm));
    if (hashMatches(hashes.get(algorithm)!, expected)) {
      if (remember) await markVerified(file, expected);
      return expected;
    }
  }
  const want = sized[0]!;
  const { algorithm } = primaryChecksum(want);
  throw new ChecksumMismatchError(`${label} is corrupt: ${algorithm} ${hashes.get(algorithm)}, expected ${describeChecksum(want)}`);
}
