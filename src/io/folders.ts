// Creating folders one level at a time. Node's recursive mkdir loops forever where mkdir answers
// ENOENT for a parent that exists (procfs: `--out /proc/x` spun at 100% CPU), and its errors do
// not say which part of the path is wrong.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FileWriteError } from './atomic-write.js';

/** A path that cannot be a folder (a file is in the way, or the file system refuses). */
export class FolderError extends FileWriteError {}

function reason(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'read-only file system';
    case 'ENOSPC': return 'no space left on device';
    case 'ENOENT': return 'the file system does not allow creating it';
    default: return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

function isFolder(path: string): boolean | null {
  try {
    return statSync(path).isDirectory();
  } catch {
    return null;
  }
}

/** Creates `path` and any missing parents; returns whether `path` itself was created. */
export function makeFolder(path: string): boolean {
  const target = resolve(path);
  const missing: string[] = [];
  for (let p = target; ; p = dirname(p)) {
    const kind = isFolder(p);
    if (kind === true) break;
    if (kind === false) throw new FolderError(`cannot create folder ${path}: ${p} is a file`);
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (err) {
      // Another process may have made it in the meantime; anything else is final.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && isFolder(p)) continue;
      throw new FolderError(`cannot create folder ${path}: ${reason(err)}${p === target ? '' : ` (at ${p})`}`);
    }
  }
  return missing.length > 0;
}
