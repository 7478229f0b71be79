// The file list of an image folder (paths and labels), listed as torchvision's ImageFolder lists
// it and cached beside the data, so a folder of a million files is walked once, not every run.
// The cache is keyed by the class folders' names and the modification time of every folder under
// them: adding, removing or renaming a file changes its folder's mtime, and that alone re-lists.
// (Not the root's mtime: writing the cache file itself changes it.)
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { DatasetNotFoundError } from './errors.js';

/** torchvision's IMG_EXTENSIONS (matched case-insensitively, as has_file_allowed_extension does). */
export const TORCHVISION_IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

/** Image files with a label each; `files` are absolute paths. */
export interface FileIndex {
  classes: string[];
  files: string[];
  labels: Int32Array;
}

export const INDEX_CACHE_FILE = '.cnn-index.json';
const CACHE_VERSION = 1;

interface CachedIndex {
  version: number;
  /** Folder under a class (relative to the root) → mtimeMs when it was listed. */
  folders: Record<string, number>;
  classes: string[];
  /** Relative to the root. */
  files: string[];
  labels: number[];
}

/** Python's sorted() on str: by code point. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function isDirectory(entryPath: string, entry: { isDirectory(): boolean; isSymbolicLink(): boolean }): Promise<boolean> {
  if (entry.isDirectory()) return true;
  // os.walk(followlinks=True) and os.scandir's is_dir() follow links.
  return entry.isSymbolicLink() && (await fs.stat(entryPath).then((s) => s.isDirectory(), () => false));
}

/** Every folder under `dir` (itself included) with its image files, in os.walk order after sorting. */
async function walk(dir: string, folders: { dir: string; files: string[]; mtimeMs: number }[]): Promise<void> {
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
  const files: string[] = [];
  const labels: number[] = [];
  const folderTimes: Record<string, number> = {};
  const empty: string[] = [];
  for (const [label, cls] of classes.entries()) {
    const folders: { dir: string; files: string[]; mtimeMs: number }[] = [];
    await walk(path.join(root, cls), folders);
    folders.sort((a, b) => byCodePoint(a.dir, b.dir));
    const before = files.length;
    for (const f of folders) {
      folderTimes[path.relative(root, f.dir)] = f.mtimeMs;
      for (const name of f.files) {
        files.push(path.join(f.dir, name));
        labels.push(label);
      }
    }
    if (files.length === before) empty.push(cls);
  }
  if (empty.length > 0) {
    throw new DatasetNotFoundError(`image folder ${root}: class folder${empty.length > 1 ? 's' : ''} ${empty.join(', ')} hold${empty.length > 1 ? '' : 's'} no ${TORCHVISION_IMAGE_EXTENSIONS.join('/')} files`);
  }
  return { classes, files, labels: Int32Array.from(labels), folders: folderTimes };
}

async function readCache(root: string): Promise<FileIndex | null> {
  let cached: CachedIndex;
  try {
    cached = JSON.parse(await fs.readFile(path.join(root, INDEX_CACHE_FILE), 'utf8')) as CachedIndex;
  } catch {
    return null;
  }
  if (cached.version !== CACHE_VERSION || !cached.folders || cached.files.length !== cached.labels.length) return null;
  if ((await classFolders(root)).join('\n') !== cached.classes.join('\n')) return null;
  for (const [rel, mtimeMs] of Object.entries(cached.folders)) {
    const now = await fs.stat(path.join(root, rel)).then((s) => s.mtimeMs, () => NaN);
    if (now !== mtimeMs) return null;
  }
  return { classes: cached.classes, files: cached.files.map((f) => path.join(root, f)), labels: Int32Array.from(cached.labels) };
}

/** Best effort: a read-only data folder just goes without a cache. */
function writeCache(root: string, index: FileIndex & { folders: Record<string, number> }): void {
  const body: CachedIndex = {
    version: CACHE_VERSION, folders: index.folders, classes: index.classes,
    files: index.files.map((f) => path.relative(root, f)), labels: Array.from(index.labels),
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
  if (cache) writeCache(root, listed);
  return { classes: listed.classes, files: listed.files, labels: listed.labels, cached: false };
}
