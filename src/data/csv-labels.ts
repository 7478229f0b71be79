// A labels file: one `path,label` row per image (CSV, or TSV when the file ends in .tsv or its
// first line has a tab). Paths are relative to the file's folder; labels are class names or
// class indices. A first row whose label column reads label/class/target is a header. Each file's
// size is read too (NaN for one missing: decoding it then names it, or skips it), and cached beside
// the labels file, keyed by its modification time and size, so a million rows are not a million
// stats every run.
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { byCodePoint, fileSizes, fromBase64, INDEX_CACHE_FILE, toBase64, type FileIndex } from './file-index.js';
import { PathTable } from './path-table.js';
import { CorruptFileError, DatasetNotFoundError } from './errors.js';

const HEADER_LABELS = new Set(['label', 'class', 'target', 'category']);

/** One CSV line's fields; double quotes may wrap a field and "" is a quote inside one. */
export function splitCsvLine(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

const isIndex = (label: string) => /^\d+$/.test(label);

/**
 * Reads a labels file. Names become classes sorted as torchvision sorts folders; indices keep
 * their numbers (classes '0'…'max'). `classes` (the training split's) fixes the class list, so a
 * validation file is read with the training file's labels.
 */
export async function readLabelsFile(file: string, classes?: readonly string[], { cache = true }: { cache?: boolean } = {}): Promise<FileIndex> {
  let text: string, stat: Stats;
  try {
    [text, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
  } catch {
    throw new DatasetNotFoundError(`labels file ${file} does not exist or cannot be read`);
  }
  const lines = text.split(/\r?\n/);
  const delimiter = file.toLowerCase().endsWith('.tsv') || lines[0]?.includes('\t') ? '\t' : ',';
  const rows: { file: string; label: string; line: number }[] = [];
  const folder = path.dirname(file);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const fields = splitCsvLine(line, delimiter);
    if (fields.length < 2 || fields[0] === '' || fields[1] === '') {
      throw new CorruptFileError(`${file}, line ${i + 1}: expected path${delimiter === '\t' ? '<tab>' : ','}label but found ${JSON.stringify(line)}`);
    }
    if (rows.length === 0 && i === lines.findIndex((l) => l.trim() !== '') && HEADER_LABELS.has(fields[1]!.toLowerCase())) continue;
    rows.push({ file: fields[0]!, label: fields[1]!, line: i + 1 });
  }
  if (rows.length === 0) throw new CorruptFileError(`${file} lists no images`);
  const numeric = rows.every((r) => isIndex(r.label));
  let names: string[];
  if (classes) {
    names = [...classes];
  } else if (numeric) {
    const max = rows.reduce((m, r) => Math.max(m, Number(r.label)), 0);
    names = Array.from({ length: max + 1 }, (_, k) => String(k));
  } else {
    names = [...new Set(rows.map((r) => r.label))].sort(byCodePoint);
  }
  const byName = new Map(names.map((n, k) => [n, k]));
  const labels = new Int32Array(rows.length);
  for (const [k, r] of rows.entries()) {
    const label = byName.get(r.label) ?? (numeric ? Number(r.label) : undefined);
    if (label === undefined || label >= names.length) {
      throw new CorruptFileError(`${file}, line ${r.line}: label ${JSON.stringify(r.label)} is not one of the ${names.length} classes (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`);
    }
    labels[k] = label;
  }
  const files = PathTable.from(folder, rows.map((r) => r.file));
  return { classes: names, files, labels, sizes: await listedSizes(file, stat, files, cache) };
}

/** The sizes cache of a labels file: `.train.csv.cnn-index.json` beside `train.csv`. */
export const labelsCacheFile = (file: string): string => path.join(path.dirname(file), `.${path.basename(file)}${INDEX_CACHE_FILE}`);

interface CachedSizes {
  version: number;
  mtimeMs: number;
  size: number;
  count: number;
  sizes: string;
}

const SIZES_CACHE_VERSION = 1;

/** The listed files' sizes: from the cache while the labels file is unchanged, else stat'ed (and cached, best effort). */
async function listedSizes(file: string, stat: Stats, files: PathTable, cache: boolean): Promise<Float64Array> {
  const cacheFile = labelsCacheFile(file);
  if (cache) {
    try {
      const c = JSON.parse(await fs.readFile(cacheFile, 'utf8')) as CachedSizes;
      if (c.version === SIZES_CACHE_VERSION && c.mtimeMs === stat.mtimeMs && c.size === stat.size && c.count === files.length) {
        const sizes = fromBase64(c.sizes, (b) => new Float64Array(b));
        if (sizes.length === files.length) return sizes;
      }
    } catch {
      // No cache, or not one this version reads: stat the files.
    }
  }
  const sizes = await fileSizes(Array.from(files));
  if (cache) {
    const body: CachedSizes = { version: SIZES_CACHE_VERSION, mtimeMs: stat.mtimeMs, size: stat.size, count: files.length, sizes: toBase64(sizes) };
    try {
      writeFileAtomic(cacheFile, JSON.stringify(body));
    } catch {
      // A read-only folder: stat again next run.
    }
  }
  return sizes;
}
