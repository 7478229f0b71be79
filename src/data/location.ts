// Where a dataset's files live: --data-dir, else $CNN_DATA, else ./data — each a root holding one
// folder per dataset (<root>/<name>). Files put directly in the root are found too, so a user who
// drops cifar-10-binary.tar.gz into --data-dir does not need to know the folder convention.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DataLocationOptions {
  /** Root folder for datasets (the CLI's --data-dir). */
  dataDir?: string;
  /** Defaults to process.env (for $CNN_DATA). */
  env?: Record<string, string | undefined>;
  /** Defaults to process.cwd(). */
  cwd?: string;
}

export function dataRoot(options: DataLocationOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (options.dataDir) return path.resolve(cwd, options.dataDir);
  if (env.CNN_DATA) return path.resolve(cwd, env.CNN_DATA);
  return path.resolve(cwd, 'data');
}

/** The folder downloads go to and files are looked for first: <root>/<name>. */
export function datasetDir(name: string, options: DataLocationOptions = {}): string {
  return path.join(dataRoot(options), name);
}

/** Folders searched for a dataset's files, in order. */
export function searchDirs(name: string, options: DataLocationOptions = {}, extra: readonly string[] = []): string[] {
  return [datasetDir(name, options), dataRoot(options), ...extra];
}

/** First folder in `dirs` that holds `file`, or undefined. */
export function findFile(dirs: readonly string[], file: string): string | undefined {
  for (const dir of dirs) {
    const candidate = path.join(dir, file);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The package's own data/ folder (bundled datasets), wherever the package is installed. */
export function packageDataDir(): string {
  // This file compiles to dist/src/data/location.js; the package root is three levels up.
  return fileURLToPath(new URL('../../../data/', import.meta.url));
}

/** How to point the CLI at a folder, for error messages. */
export function manualHint(name: string, options: DataLocationOptions = {}): string {
  return `or put it in DIR/${name}/ and pass --data-dir DIR (or set CNN_DATA=DIR); current root is ${dataRoot(options)}`;
}
