// The run folder: runs/<model>-<dataset>-N by default, holding args.json, metrics.csv,
// last.bin, best.bin and curves.png. A run holds a lock file in its folder while it lives, so a
// second process cannot interleave its rows and checkpoints with the first.
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HOST, processIsAlive, removeStaleTempFiles, tempPathFor, writeFileAtomic } from '../io/atomic-write.js';
import { FolderError, makeFolder } from '../io/folders.js';
import { ConfigError } from './config.js';

export const METRICS_COLUMNS = ['epoch', 'train_loss', 'train_acc', 'val_loss', 'val_acc', 'val_top5', 'lr', 'seconds', 'images_per_sec'] as const;
export type MetricsRow = Record<(typeof METRICS_COLUMNS)[number], number>;

/** The files a run writes; their presence marks a folder as holding a run. */
export const RUN_FILES = ['args.json', 'metrics.csv', 'last.bin', 'best.bin', 'curves.png'] as const;
export const LOCK_FILE = '.lock';

/** The folder is another live run's, already holds a run, or cannot be one: exit code 2. */
export class RunFolderError extends ConfigError {}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** The first runs/<model>-<dataset>-N after the highest N there (N from 1). */
export function nextRunFolder(root: string, model: string, dataset: string): string {
  const prefix = `${model}-${dataset}-`;
  const taken = existsSync(root) ? readdirSync(root).filter((n) => n.startsWith(prefix)).map((n) => Number(n.slice(prefix.length))) : [];
  const n = Math.max(0, ...taken.filter(Number.isInteger)) + 1;
  return join(root, `${prefix}${n}`);
}

function readLock(path: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return Number.isInteger(info.pid) && typeof info.host === 'string' ? info : null;
  } catch {
    return null;
  }
}

/**
 * Takes `folder/.lock`, written whole to a temp file and then hard-linked into place (link fails
 * if the lock exists, so no one ever reads half a lock). A lock of a dead process on this host is
 * taken over; a live one, or one from another host, is a RunFolderError.
 */
function acquireLock(folder: string): string {
  const lock = join(folder, LOCK_FILE);
  const tmp = tempPathFor(lock);
  writeFileAtomic(tmp, `${JSON.stringify({ pid: process.pid, host: HOST, started: new Date().toISOString() })}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, lock);
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RunFolderError(`cannot lock ${folder}: ${(err as NodeJS.ErrnoException).code}`);
      }
      const holder = readLock(lock);
      const stale = holder === null || (holder.host === HOST && holder.pid !== process.pid && !processIsAlive(holder.pid));
      if (!stale) {
        throw new RunFolderError(`${folder} is in use by process ${holder.pid} on ${holder.host} (started ${holder.started}); `
          + `wait for it, or use another --out (if that process is gone, delete ${lock})`);
      }
      rmSync(lock, { force: true });
    }
    throw new RunFolderError(`cannot lock ${folder}: other processes keep taking it`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

export interface RunFolder {
  folder: string;
  /** Removes the lock (and the folder, if this run made it and wrote nothing); safe to call twice. */
  release(): void;
}

export interface ClaimOptions {
  /** --out; undefined picks `root`/<model>-<dataset>-N. */
  out?: string;
  root?: string;
  model: string;
  dataset: string;
  /** Continuing the run in this folder (--resume). */
  resume?: boolean;
  /** Replace the run in this folder (--overwrite): its files are removed, others left alone. */
  overwrite?: boolean;
}

/** Creates or opens a run folder and locks it for this process; cleans temp files of dead writers in it. */
export function claimRunFolder({ out, root = 'runs', model, dataset, resume = false, overwrite = false }: ClaimOptions): RunFolder {
  let folder: string;
  let created: boolean;
  if (out === undefined) {
    makeFolder(root);
    // mkdir of the folder itself is the claim: two runs starting at once get different N.
    for (;;) {
      folder = nextRunFolder(root, model, dataset);
      try {
        mkdirSync(folder);
        created = true;
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RunFolderError(`cannot create ${folder}: ${(err as NodeJS.ErrnoException).code}`);
      }
    }
  } else {
    folder = out;
    if (existsSync(out) && !statSync(out).isDirectory()) throw new RunFolderError(`--out ${out} is a file, not a folder`);
    try {
      created = makeFolder(out);
    } catch (err) {
      if (err instanceof FolderError) throw new RunFolderError(`--out: ${err.message}`);
      throw err;
    }
  }
  const lock = acquireLock(folder);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    rmSync(lock, { force: true });
    if (created) {
      try {
        rmdirSync(folder); // only succeeds when nothing was written
      } catch {
        // The run wrote files: the folder stays.
      }
    }
  };
  // A process that exits without unwinding (process.exit on a second Ctrl-C) still frees the folder.
  process.on('exit', release);
  try {
    if (!created && !resume) {
      const present = RUN_FILES.filter((f) => existsSync(join(folder, f)));
      if (present.length > 0 && !overwrite) {
        throw new RunFolderError(`--out ${folder} already holds a run (${present.join(', ')}); `
          + `pass --resume ${join(folder, 'last.bin')} to continue it or --overwrite to replace it`);
      }
      for (const f of present) rmSync(join(folder, f), { force: true });
    }
    removeStaleTempFiles(folder);
  } catch (err) {
    release();
    throw err;
  }
  return { folder, release };
}

export function writeArgs(folder: string, args: object): void {
  writeFileAtomic(join(folder, 'args.json'), `${JSON.stringify(args, null, 2)}\n`);
}

/** Strict CSV: a header, then one line per epoch; numbers only, so nothing needs quoting. */
function metricsText(rows: readonly MetricsRow[]): string {
  return [METRICS_COLUMNS.join(','), ...rows.map((row) => METRICS_COLUMNS.map((c) => formatNumber(row[c])).join(','))].join('\n') + '\n';
}

/** Rewrites the whole (small) file through the atomic writer, so a crash never leaves half a row. */
export function appendMetrics(folder: string, row: MetricsRow): void {
  writeFileAtomic(join(folder, 'metrics.csv'), metricsText([...readMetrics(folder), row]));
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(8)));
}

export function readMetrics(folder: string): MetricsRow[] {
  const path = join(folder, 'metrics.csv');
  if (!existsSync(path)) return [];
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = header.split(',');
  return lines.filter((l) => l).map((l) => {
    const values = l.split(',').map(Number);
    return Object.fromEntries(cols.map((c, i) => [c, values[i]])) as MetricsRow;
  });
}

/** The rows of `from` up to `epoch` become `to`'s metrics (a resumed run rewrites what came after its checkpoint). */
export function carryMetrics(from: string, to: string, epoch: number): void {
  writeFileAtomic(join(to, 'metrics.csv'), metricsText(readMetrics(from).filter((r) => r.epoch <= epoch)));
}
