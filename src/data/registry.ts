// Datasets by name, for the CLI (--dataset NAME) and for programs.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { isMarkedVerified } from './checksum.js';
import { cifar10 } from './cifar10.js';
import { cifar100 } from './cifar100.js';
import type { ImageDataset } from './dataset.js';
import type { DatasetDefinition, LoadOptions } from './definition.js';
import { acceptedChecksums, type RemoteFile } from './download.js';
import { DatasetOptionError } from './errors.js';
import { fashionMnist } from './fashion-mnist.js';
import { fashionMnistMini } from './fashion-mnist-mini.js';
import { imageFolder } from './imagefolder.js';
import { findFile, searchDirs, type DataLocationOptions } from './location.js';
import { mnist } from './mnist.js';
import { ensureRemoteFiles, type FetchOptions } from './remote-files.js';

export type { DatasetDefinition, LoadOptions } from './definition.js';


const DATASETS: readonly DatasetDefinition[] = [fashionMnistMini, mnist, fashionMnist, cifar10, cifar100, imageFolder];

/** The caller's extra folders, then the dataset's own (distribution packages). */
function withExtraDirs<T extends { extraDirs?: readonly string[] }>(def: DatasetDefinition, options: T): T {
  return { ...options, extraDirs: [...(options.extraDirs ?? []), ...(def.extraDirs ?? [])] };
}

export function listDatasets(): readonly DatasetDefinition[] {
  return DATASETS;
}

export function datasetNames(): string[] {
  return DATASETS.map((d) => d.name);
}

export function getDataset(name: string): DatasetDefinition {
  const found = DATASETS.find((d) => d.name === name.toLowerCase());
  if (!found) throw new DatasetOptionError(`unknown dataset ${JSON.stringify(name)}; choose one of ${datasetNames().join(', ')}`);
  return found;
}

/** Loads one split ('train', 'test', or 'val' for image folders) of a registered dataset. */
export async function loadDataset(name: string, split: string, options: LoadOptions = {}): Promise<ImageDataset> {
  const def = getDataset(name);
  if (!def.splits.includes(split)) throw new DatasetOptionError(`${def.name} has splits ${def.splits.join(', ')}, not ${JSON.stringify(split)}`);
  return def.load(split, withExtraDirs(def, options));
}

/** Finds, verifies or downloads every published file of a dataset; returns their paths. */
export async function downloadDataset(name: string, options: FetchOptions = {}): Promise<string[]> {
  const def = getDataset(name);
  if (def.files.length === 0) {
    throw new DatasetOptionError(def.bundledDir ? `${def.name} is bundled with cnn; nothing to download` : `${def.name} is read from your own folder; nothing to download`);
  }
  return ensureRemoteFiles(def.name, def.files, withExtraDirs(def, { ...options, download: true }));
}

export type FileState = 'verified' | 'present' | 'missing';

export interface DatasetStatus {
  name: string;
  description: string;
  splits: readonly string[];
  shape?: { channels: number; height: number; width: number };
  numClasses?: number;
  license: string;
  source: string;
  /** 'bundled' ships with cnn; 'local' is read from --data-dir; the others describe the files found. */
  state: 'bundled' | 'local' | 'ready' | 'unverified' | 'partial' | 'missing';
  /** Bytes of published files (what a download fetches). */
  downloadBytes: number;
  /** Bytes of those files found on disk. */
  localBytes: number;
  files: { file: string; size: number; path?: string; state: FileState }[];
}

async function fileState(remote: RemoteFile, dirs: readonly string[]): Promise<DatasetStatus['files'][number]> {
  const found = findFile(dirs, remote.file);
  if (!found) return { file: remote.file, size: remote.size ?? 0, state: 'missing' };
  for (const expected of acceptedChecksums(remote)) {
    if (await isMarkedVerified(found, expected).catch(() => false)) return { file: remote.file, size: remote.size ?? 0, path: found, state: 'verified' };
  }
  return { file: remote.file, size: remote.size ?? 0, path: found, state: 'present' };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) total += (await fs.stat(path.join(dir, entry.name))).size;
  }
  return total;
}

/** What is present locally, without hashing anything (the verified marker answers that). */
export async function datasetStatus(def: DatasetDefinition, options: DataLocationOptions = {}): Promise<DatasetStatus> {
  const base = {
    name: def.name, description: def.description, splits: def.splits, shape: def.shape, numClasses: def.numClasses,
    license: def.license, source: def.source,
  };
  if (def.bundledDir) {
    const dir = def.bundledDir();
    const bytes = existsSync(dir) ? await folderBytes(dir) : 0;
    return { ...base, state: 'bundled', downloadBytes: 0, localBytes: bytes, files: [] };
  }
  if (def.files.length === 0) return { ...base, state: 'local', downloadBytes: 0, localBytes: 0, files: [] };
  const dirs = searchDirs(def.name, options, def.extraDirs ?? []);
  const files = await Promise.all(def.files.map((f) => fileState(f, dirs)));
  const present = files.filter((f) => f.state !== 'missing');
  const state = present.length === 0 ? 'missing' : present.length < files.length ? 'partial'
    : files.every((f) => f.state === 'verified') ? 'ready' : 'unverified';
  let localBytes = 0;
  for (const f of present) localBytes += (await fs.stat(f.path!)).size;
  return { ...base, state, downloadBytes: def.files.reduce((s, f) => s + (f.size ?? 0), 0), localBytes, files };
}
