// The file list of an image folder (paths, labels and file sizes), listed as torchvision's
// ImageFolder lists it and cached beside the data, so a folder of a million files is walked once, not every run.
// The cache is keyed by the class folders' names and the modification time of every folder under
// them: adding, removing or renaming a file changes its folder's mtime, and that alone re-lists.
// (Not the root's mtime: writing the cache file itself changes it.) Paths are packed in a
// PathTable and labels and sizes in typed arrays, so the index costs tens of bytes a file and
// no JS object per file, in memory and while the cache is read.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { DatasetNotFoundError } from './errors.js';
import { PathTableBuilder, PathTable } from './path-table.js';

/** torchvision's IMG_EXTENSIONS (matched case-insensitively, as has_file_allowed_extension does). */
export const TORCHVISION_IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

/** Image files with a label and a size in bytes each (NaN where a listed file could not be read). */
export interface FileIndex {
  classes: string[];
  files: PathTable;
  labels: Int32Array;
  sizes: Float64Array;
}

/** Bytes an index holds for its files (paths, labels, sizes). */
export function indexBytes(index: FileIndex): number {
  return index.files.byteLength + index.labels.byteLength + index.sizes.byteLength;
}

export const INDEX_CACHE_FILE = '.cnn-index.json';
const CACHE_VERSION = 2;

interface CachedIndex {
  version: number;
  /** Folder under a class (relative to the root) → mtimeMs when it was listed. */
  folders: Record<string, number>;
  classes: string[];
  count: number;
  /** Paths relative to the root, separated by NUL. */
  paths: string;
  /** Int32Array and Float64Array bytes (little-endian), base64. */
  labels: string;
  sizes: string;
}

/** File sizes in bytes, a bounded number of stats in flight; NaN for a file that cannot be read. */
export async function fileSizes(files: readonly string[], inFlight = 64): Promise<Float64Array> {
  const sizes = new Float64Array(files.length);
  for (let from = 0; from < files.length; from += inFlight) {
    await Promise.all(files.slice(from, from + inFlight).map(async (f, k) => {
      sizes[from + k] = await fs.stat(f).then((s) => s.size, () => NaN);
    }));
  }
  return sizes;
}

/** Python's sorted() on str: by code point. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function isDirectory(entryPath: string, entry: { isDirectory(): boolean; isSymbolicLink(): boolean }): Promise<boolean> {
  if (entry.isDirectory()) return true;
  // os.walk(followlinks=True) and os.scandir's is_dir() follow links.
  return entry.isSymbolicLink() && (await fs.stat(entryPath).then((s) => s.isDirectory(), () => false));
}

interface ListedFolder { dir: string; files: string[]; mtimeMs: number }

/** Every folder under `dir` (itself included) with its image files, in os.walk order after sorting. */
async function walk(dir: string, folders: ListedFolder[]): Promise<void> {
  const [entries, stat] = await Promise.all([fs.readdir(dir, { withFileTypes: true }), fs.stat(dir)]);
  const files: string[] = [];
  const subdirs: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (await isDirectory(p, e)) subdirs.push(p);
    else if (TORCHVISION_IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) files.push(e.name);
  }
  folders.push({ dir, files: files.sort(byCodePoint), mtimeMs: stat.mtimeMs });
  for (const sub of subdirs) await walk(sub, folders);
}

/** The sorted sub-folders of root (torchvision's find_classes). */
async function classFolders(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch {
    throw new DatasetNotFoundError(`image folder ${root} does not exist (expected ${root}/<class>/<image>.jpg|png|webp)`);
  }
  const classes: string[] = [];
  for (const e of entries) if (await isDirectory(path.join(root, e.name), e)) classes.push(e.name);
  return classes.sort(byCodePoint);
}

/**
 * torchvision's ImageFolder listing: classes are the sorted sub-folders of root; each class's
 * images come from os.walk over its folder (followlinks), folders in sorted path order and files
 * sorted within a folder. A class without images is an error, as in torchvision.
 */
export async function listImageFolder(root: string): Promise<FileIndex & { folders: Record<string, number> }> {
  const classes = await classFolders(root);
  if (classes.length === 0) throw new DatasetNotFoundError(`image folder ${root} has no class sub-folders (expected ${root}/<class>/<image>)`);
  const files = new PathTableBuilder(root);
  const labels: number[] = [];
  const sizes: Float64Array[] = [];
  const folderTimes: Record<string, number> = {};
  const empty: string[] = [];
  for (const [label, cls] of classes.entries()) {
    const folders: ListedFolder[] = [];
    await walk(path.join(root, cls), folders);
    folders.sort((a, b) => byCodePoint(a.dir, b.dir));
    const before = files.length;
    for (const f of folders) {
      const rel = path.relative(root, f.dir);
      folderTimes[rel] = f.mtimeMs;
      sizes.push(await fileSizes(f.files.map((name) => path.join(f.dir, name))));
      for (const name of f.files) {
        files.push(path.join(rel, name));
        labels.push(label);
      }
    }
    if (files.length === before) empty.push(cls);
  }
  if (empty.length > 0) {
    throw new DatasetNotFoundError(`image folder ${root}: class folder${empty.length > 1 ? 's' : ''} ${empty.join(', ')} hold${empty.length > 1 ? '' : 's'} no ${TORCHVISION_IMAGE_EXTENSIONS.join('/')} files`);
  }
  return { classes, files: files.finish(), labels: Int32Array.from(labels), sizes: concat(sizes), folders: folderTimes };
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A typed array's bytes as base64, and back (copied, so the array owns aligned memory). */
export const toBase64 = (a: Int32Array | Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
export function fromBase64<T extends Int32Array | Float64Array>(text: string, make: (bytes: ArrayBuffer) => T): T {
  const bytes = Buffer.from(text, 'base64');
  return make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function readCache(root: string): Promise<FileIndex | null> {
  let cached: CachedIndex;
  try {
    cached = JSON.parse(await fs.readFile(path.join(root, INDEX_CACHE_FILE), 'utf8')) as CachedIndex;
  } catch {
    return null;
  }
  if (cached.version !== CACHE_VERSION || !cached.folders || typeof cached.paths !== 'string') return null;
  if ((await classFolders(root)).join('\n') !== cached.classes.join('\n')) return null;
  for (const [rel, mtimeMs] of Object.entries(cached.folders)) {
    const now = await fs.stat(path.join(root, rel)).then((s) => s.mtimeMs, () => NaN);
    if (now !== mtimeMs) return null;
  }
  try {
    const files = PathTable.fromJoined(root, cached.paths);
    const labels = fromBase64(cached.labels, (b) => new Int32Array(b));
    const sizes = fromBase64(cached.sizes, (b) => new Float64Array(b));
    if (files.length !== cached.count || labels.length !== cached.count || sizes.length !== cached.count) return null;
    return { classes: cached.classes, files, labels, sizes };
  } catch {
    return null; // A cache cut short (lengths not whole elements): list again.
  }
}

/** Best effort: a read-only data folder just goes without a cache. `folders`: mtimeMs by folder relative to root. */
export function writeIndexCache(root: string, index: FileIndex & { folders: Record<string, number> }): void {
  const body: CachedIndex = {
    version: CACHE_VERSION, folders: index.folders, classes: index.classes, count: index.files.length,
    paths: index.files.joined(), labels: toBase64(index.labels), sizes: toBase64(index.sizes),
  };
  try {
    writeFileAtomic(path.join(root, INDEX_CACHE_FILE), JSON.stringify(body));
  } catch {
    // Listing again next run is the only cost.
  }
}

/** The listing of root, from the cache when no folder under it changed since it was written. */
export async function indexImageFolder(root: string, { cache = true }: { cache?: boolean } = {}): Promise<FileIndex & { cached: boolean }> {
  if (cache) {
    const hit = await readCache(root);
    if (hit) return { ...hit, cached: true };
  }
  const listed = await listImageFolder(root);
  if (cache) writeIndexCache(root, listed);
  return { classes: listed.classes, files: listed.files, labels: listed.labels, sizes: listed.sizes, cached: false };
}
