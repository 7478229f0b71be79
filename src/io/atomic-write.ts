// The one way the product writes a file: bytes go to a temporary file in the same folder, every
// write's byte count is checked (a full disk may return a short count instead of ENOSPC), the file
// and then its folder are synced, and only then is the temp file renamed over the target. On any
// failure the temp file is removed and the previous file is untouched.
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** A file could not be written (disk full, permissions, a folder in the way); exit code 1. */
export class FileWriteError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'FileWriteError';
  }
}

/** The host part of temp names, kept to characters that are safe in a file name. */
export const HOST = hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
const TEMP_PATTERN = /\.tmp-(\d+)-([A-Za-z0-9._-]+)$/;

/** `<target>.tmp-<pid>-<host>`: the pid and host let a later run tell a dead writer's leftovers. */
export function tempPathFor(target: string): string {
  return `${target}.tmp-${process.pid}-${HOST}`;
}

/** A write failure in words ("no space left on device"), for one-line messages. */
export function describeWriteError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOSPC': return 'no space left on device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EFBIG': return 'file too large for this file system or limit';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'read-only file system';
    case 'EISDIR': return 'a folder is in the way';
    case 'ENOENT': return 'its folder does not exist';
    case 'ENOTDIR': return 'a file is in the way of its folder';
    default: return e.code ?? (err as Error).message;
  }
}

/** Writes all of each chunk in turn at the fd's position, or throws saying how far it got. */
export function writeFully(fd: number, chunks: readonly Uint8Array[], what: string): void {
  const total = chunks.reduce((s, c) => s + c.length, 0);
  let written = 0;
  for (const bytes of chunks) {
    let done = 0;
    while (done < bytes.length) {
      let n: number;
      try {
        n = writeSync(fd, bytes, done, bytes.length - done);
      } catch (err) {
        throw new FileWriteError(`cannot write ${what}: ${describeWriteError(err)} (wrote ${written + done} of ${total} bytes)`);
      }
      // A zero-byte write makes no progress: treat it as the disk being full rather than loop.
      if (n <= 0) throw new FileWriteError(`cannot write ${what}: no space left on device (wrote ${written + done} of ${total} bytes)`);
      done += n;
    }
    written += bytes.length;
  }
}

/**
 * Kill tests only: with CNN_TEST_WRITE_PAUSE_MS=N every write stops N ms with its temp file half
 * written, so a SIGKILL can be aimed inside the writer instead of hoping to hit its few milliseconds.
 */
const writePauseMs = Number(process.env.CNN_TEST_WRITE_PAUSE_MS ?? 0);

/** `chunks` cut at byte `at`: the chunks before it and the chunks from it on. */
function splitChunks(chunks: readonly Uint8Array[], at: number): [Uint8Array[], Uint8Array[]] {
  const before: Uint8Array[] = [], after: Uint8Array[] = [];
  let offset = 0;
  for (const c of chunks) {
    const cut = Math.min(Math.max(at - offset, 0), c.length);
    if (cut > 0) before.push(c.subarray(0, cut));
    if (cut < c.length) after.push(c.subarray(cut));
    offset += c.length;
  }
  return [before, after];
}

/** writeFully, with the test pause halfway when CNN_TEST_WRITE_PAUSE_MS is set. */
function writeAll(fd: number, chunks: readonly Uint8Array[], what: string): void {
  if (!(writePauseMs > 0)) return writeFully(fd, chunks, what);
  const [first, second] = splitChunks(chunks, Math.floor(chunks.reduce((s, c) => s + c.length, 0) / 2));
  writeFully(fd, first, what);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, writePauseMs);
  writeFully(fd, second, what);
}

/** fsync on a folder makes a rename in it durable; some file systems refuse it, which is harmless. */
export function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // EISDIR/EINVAL/EBADF on platforms or file systems without directory fsync.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Replaces `path` with `data` atomically and durably. Throws FileWriteError (one line naming the
 * file) and leaves any previous `path` as it was.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string | readonly Uint8Array[]): void {
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    try {
      fd = openSync(tmp, 'w');
    } catch (err) {
      throw new FileWriteError(`cannot write ${path}: ${describeWriteError(err)}`);
    }
    writeAll(fd, chunks, path);
    try {
      fsyncSync(fd);
    } catch (err) {
      throw new FileWriteError(`cannot write ${path}: ${describeWriteError(err)} while syncing`);
    }
    closeSync(fd);
    fd = undefined;
    try {
      renameSync(tmp, path);
    } catch (err) {
      throw new FileWriteError(`cannot write ${path}: ${describeWriteError(err)}`);
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  syncFolder(dirname(path) || '.');
}

/** Installs a finished temp file (a download's .part) at `path`: fsync it, rename, fsync the folder. */
export function installFile(tmp: string, path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'r+');
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    throw new FileWriteError(`cannot write ${path}: ${describeWriteError(err)}`);
  }
  syncFolder(dirname(path) || '.');
}

/** Whether a process with this pid runs on this host (signal 0 probes without sending anything). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files left in `folder` by writers on this host that are no longer running. Returns their names. */
export function removeStaleTempFiles(folder: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_PATTERN.exec(name);
    if (!m || m[2] !== HOST) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processIsAlive(pid)) continue;
    try {
      rmSync(join(folder, name), { force: true });
      removed.push(basename(name));
    } catch {
      // Someone else's file we may not remove: leave it.
    }
  }
  return removed;
}
