// A small streaming reader for gzipped tar archives (ustar, pax and GNU long names), enough for
// the published dataset archives. Entries are extracted only inside the target folder: absolute
// paths, `..` segments and links of any kind are refused, since an archive is untrusted input.
import { createReadStream, createWriteStream, existsSync, promises as fs, readdirSync, renameSync, statSync } from 'node:fs';
import { FolderError, makeFolder } from '../io/folders.js';
import { describeWriteError, FileWriteError } from '../io/atomic-write.js';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { CorruptFileError, NotAnArchiveError, TruncatedFileError, UnsafeArchiveEntryError } from './errors.js';

const BLOCK = 512;
/** pax and GNU long-name bodies are read whole; real ones are a few hundred bytes. */
const MAX_META_BYTES = 1 << 20;
/**
 * Deflate cannot expand its input more than 1032 times (a 258-byte match per 2 bits), so a gzip
 * file of n bytes holds at most 1032·n bytes of tar, however many members it has. The gzip trailer's
 * ISIZE is not used instead: it is the last member's size only, and modulo 2^32.
 */
const DEFLATE_MAX_RATIO = 1032;

/** The most tar bytes a gzip file of `compressedBytes` can hold. */
export function maxInflatedBytes(compressedBytes: number): number {
  return compressedBytes * DEFLATE_MAX_RATIO;
}

/** Reads exact byte counts from an async stream of chunks. */
class ChunkReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  /** Bytes handed out so far (read, readSome and skip): the position in the tar stream. */
  consumed = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(min: number): Promise<void> {
    while (this.buffered < min && !this.done) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
  }

  /** Exactly n bytes, or null at a clean end of stream; throws if it ends inside the n bytes. */
  async read(n: number, what: string): Promise<Buffer | null> {
    await this.fill(n);
    if (this.buffered === 0 && this.done) return null;
    if (this.buffered < n) throw new TruncatedFileError(`archive ends inside ${what}`);
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    this.consumed += n;
    return out;
  }

  /** Up to n (> 0) bytes, at least one; for streaming large entries without concatenating them. */
  async readSome(n: number, what: string): Promise<Buffer> {
    await this.fill(1);
    if (this.buffered === 0) throw new TruncatedFileError(`archive ends inside ${what}`);
    const first = this.chunks[0]!;
    if (first.length <= n) {
      this.chunks.shift();
      this.buffered -= first.length;
      this.consumed += first.length;
      return first;
    }
    this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    this.consumed += n;
    return first.subarray(0, n);
  }

  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) left -= (await this.readSome(left, what)).length;
  }
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number, what: string): number {
  if (block[start]! & 0x80) {
    // GNU base-256 for sizes >= 8 GiB; the low bytes hold the value.
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const text = cString(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new CorruptFileError(`tar header has a bad ${what} field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function checkHeaderChecksum(block: Buffer): void {
  const stored = octal(block, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  if (sum !== stored) throw new CorruptFileError('tar header checksum mismatch (not a tar archive, or corrupt)');
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space < 0) break;
    const length = Number(body.subarray(pos, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) throw new CorruptFileError('bad pax header record');
    const record = body.subarray(space + 1, pos + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += length;
  }
  return out;
}

/** Resolves an entry name inside `root`, or throws if it could land anywhere else. */
export function safeEntryPath(root: string, name: string): string {
  const unsafe = (why: string) => new UnsafeArchiveEntryError(`refusing tar entry ${JSON.stringify(name)}: ${why}`);
  if (name.includes('\0')) throw unsafe('NUL in name');
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) throw unsafe('absolute path');
  const parts = name.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw unsafe('escapes the target folder with ..');
  const resolved = path.resolve(root, ...parts);
  const base = path.resolve(root);
  if (resolved !== base && !resolved.startsWith(base + path.sep)) throw unsafe('escapes the target folder');
  return resolved;
}

export interface TarEntryInfo {
  name: string;
  size: number;
  type: 'file' | 'directory';
}

/**
 * Calls `onEntry` with each regular file's bytes streamed as an async iterable; refuses links.
 * `maxTarBytes` bounds the whole tar stream: an entry claiming more than is left is refused at its header.
 */
async function walkTar(
  source: AsyncIterator<Buffer>,
  maxTarBytes: number,
  onEntry: (entry: TarEntryInfo, body: AsyncIterable<Buffer>) => Promise<void>,
): Promise<void> {
  const reader = new ChunkReader(source);
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  let sawEntry = false;
  for (;;) {
    const block = await reader.read(BLOCK, 'a header');
    if (block === null) {
      if (!sawEntry) throw new CorruptFileError('empty tar archive');
      return; // Some writers omit the two zero blocks; a clean end after an entry is fine.
    }
    if (block.every((b) => b === 0)) {
      // Read to the end of the stream, so gzip checks its trailer (CRC-32 and length) too.
      while (!(await source.next()).done);
      return;
    }
    checkHeaderChecksum(block);
    sawEntry = true;
    const type = String.fromCharCode(block[156]!);
    const magic = cString(block, 257, 6);
    const prefix = magic.startsWith('ustar') ? cString(block, 345, 155) : '';
    const headerName = prefix ? `${prefix}/${cString(block, 0, 100)}` : cString(block, 0, 100);
    const size = pax.size !== undefined ? Number(pax.size) : octal(block, 124, 12, 'size');
    const name = pax.path ?? longName ?? headerName;
    const what = `entry ${JSON.stringify(name)}`;
    if (!Number.isSafeInteger(size) || size < 0) throw new CorruptFileError(`tar ${what} has an impossible size ${pax.size ?? size}`);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L') {
      if (size > MAX_META_BYTES) throw new CorruptFileError(`tar ${what} has a ${size}-byte ${type === 'x' ? 'pax' : 'long-name'} header (at most ${MAX_META_BYTES} accepted)`);
      const body = await reader.read(padded, what);
      if (body === null) throw new TruncatedFileError(`archive ends inside ${what}`);
      if (type === 'x') pax = parsePax(body.subarray(0, size));
      else longName = cString(body, 0, size);
      continue;
    }
    // Checked before anything streams, so a few bytes claiming terabytes are refused at once rather than
    // inflated to the end of the archive.
    const left = maxTarBytes - reader.consumed;
    if (size > left) throw new CorruptFileError(`tar ${what} claims ${size} bytes, more than the archive can hold (at most ${left} bytes left)`);
    longName = undefined;
    pax = {};
    if (type === 'g' || type === 'K') {
      await reader.skip(padded, what);
      continue;
    }
    if (type === '1' || type === '2') {
      throw new UnsafeArchiveEntryError(`refusing tar entry ${JSON.stringify(name)}: links are not extracted`);
    }
    if (type === '5') {
      await onEntry({ name, size: 0, type: 'directory' }, (async function* () {})());
      await reader.skip(padded, what);
      continue;
    }
    if (type !== '0' && type !== '\0' && type !== '7') {
      throw new UnsafeArchiveEntryError(`refusing tar entry ${JSON.stringify(name)}: unsupported type ${JSON.stringify(type)}`);
    }
    let unread = size;
    const body = (async function* () {
      while (unread > 0) {
        const chunk = await reader.readSome(unread, what);
        unread -= chunk.length;
        yield chunk;
      }
    })();
    await onEntry({ name, size, type: 'file' }, body);
    // Whatever the callback did not consume, and the padding, is skipped.
    await reader.skip(unread + (padded - size), what);
  }
}

function gunzipErrors(err: unknown, archive: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e.message ?? '')) {
    return new TruncatedFileError(`${archive} is truncated (gzip stream ends early)`);
  }
  if (e.code === 'Z_DATA_ERROR' && /incorrect (data|length) check/.test(e.message ?? '')) {
    return new CorruptFileError(`${archive} is corrupt: its gzip trailer does not match the data (${e.message})`);
  }
  if (e.code === 'Z_DATA_ERROR') return new NotAnArchiveError(`${archive} is not a gzip archive (${e.message})`);
  return err instanceof Error ? err : new Error(String(err));
}

/** Prefixes the archive path to reader errors so the user knows which file is bad. */
function withArchive(err: unknown, archive: string): Error {
  if (err instanceof TruncatedFileError) return new TruncatedFileError(`${archive}: ${err.message}`);
  if (err instanceof CorruptFileError) return new CorruptFileError(`${archive}: ${err.message}`);
  if (err instanceof UnsafeArchiveEntryError) return new UnsafeArchiveEntryError(`${archive}: ${err.message}`);
  return gunzipErrors(err, archive);
}

/**
 * Extracts a .tar.gz into `targetDir`. Everything lands first in a temporary folder inside it and
 * is moved into place only when the whole archive (gzip trailer included) read cleanly, so a
 * failure leaves nothing half written; existing folders are merged into, never deleted.
 * Returns the extracted file paths.
 */
export async function extractTarGz(archive: string, targetDir: string): Promise<string[]> {
  makeFolder(targetDir);
  const staging = await fs.mkdtemp(path.join(targetDir, '.extract-'));
  const written: string[] = [];
  const topLevel = new Set<string>();
  try {
    const gunzip = createGunzip();
    const input = createReadStream(archive);
    input.on('error', (err) => gunzip.destroy(err));
    input.pipe(gunzip);
    await walkTar(gunzip[Symbol.asyncIterator](), maxInflatedBytes(statSync(archive).size), async (entry, body) => {
      const target = safeEntryPath(staging, entry.name);
      if (target === staging) return;
      topLevel.add(path.relative(staging, target).split(path.sep)[0]!);
      const clash = () => new CorruptFileError(`tar entry ${JSON.stringify(entry.name)} clashes with an earlier entry (a file and a folder at one path)`);
      try {
        makeFolder(entry.type === 'directory' ? target : path.dirname(target));
      } catch (err) {
        throw err instanceof FolderError ? clash() : err;
      }
      if (entry.type === 'directory') return;
      if (existsSync(target) && statSync(target).isDirectory()) throw clash();
      // pipeline() turns a write error (a full disk) into a rejection, never an unhandled event.
      await pipeline(body, createWriteStream(target));
      // Synced before anything is renamed into place, so a crash cannot leave empty files there.
      const file = await fs.open(target, 'r+');
      try {
        await file.sync();
      } finally {
        await file.close();
      }
      written.push(path.relative(staging, target));
    });
    input.destroy();
    for (const name of topLevel) moveInto(path.join(staging, name), path.join(targetDir, name));
    return written.map((rel) => path.join(targetDir, rel));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EFBIG' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES') {
      throw new FileWriteError(`cannot extract ${archive} into ${targetDir}: ${describeWriteError(err)}`);
    }
    throw withArchive(err, archive);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/**
 * Moves an extracted file or folder to `dest`: a file replaces a file of that name, a folder is
 * merged into an existing one. Nothing already there is deleted; a file where a folder is needed
 * (or the reverse) is an error naming it.
 */
function moveInto(src: string, dest: string): void {
  const srcIsFolder = statSync(src).isDirectory();
  const destIsFolder = existsSync(dest) ? statSync(dest).isDirectory() : null;
  if (destIsFolder === null || (!srcIsFolder && !destIsFolder)) {
    renameSync(src, dest);
  } else if (srcIsFolder && destIsFolder) {
    for (const name of readdirSync(src)) moveInto(path.join(src, name), path.join(dest, name));
  } else {
    throw new CorruptFileError(`cannot extract ${dest}: a ${destIsFolder ? 'folder' : 'file'} of that name is in the way`);
  }
}

/** Lists a .tar.gz without writing anything (used by tests and `cnn datasets`). */
export async function listTarGz(archive: string): Promise<TarEntryInfo[]> {
  return listTarGzFrom(createReadStream(archive), statSync(archive).size, archive);
}

/** Lists a .tar.gz held in memory; `what` names it in errors. */
export async function listTarGzBytes(bytes: Uint8Array, what = 'archive'): Promise<TarEntryInfo[]> {
  return listTarGzFrom(Readable.from([bytes]), bytes.length, what);
}

async function listTarGzFrom(input: Readable, compressedBytes: number, archive: string): Promise<TarEntryInfo[]> {
  const entries: TarEntryInfo[] = [];
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  try {
    await walkTar(gunzip[Symbol.asyncIterator](), maxInflatedBytes(compressedBytes), async (entry) => {
      entries.push(entry);
    });
  } catch (err) {
    throw withArchive(err, archive);
  } finally {
    input.destroy();
  }
  return entries;
}
