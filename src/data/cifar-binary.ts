// The CIFAR "binary version" record format: label byte(s) then 3072 bytes = R, G, B planes of
// 32×32 — already CHW, so each record is one copy into the images block.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { CorruptFileError, TruncatedFileError } from './errors.js';
import { extractTarGz } from './tar.js';
import { readDataFile } from './read-file.js';
import { ensureRemoteFile, type FetchOptions } from './remote-files.js';
import type { RemoteFile } from './download.js';
import { searchDirs } from './location.js';

export const CIFAR_IMAGE_BYTES = 3 * 32 * 32;

export interface CifarRecords {
  images: Uint8Array;
  /** One Int32Array per label byte of the record (CIFAR-10: [label]; CIFAR-100: [coarse, fine]). */
  labels: Int32Array[];
  count: number;
}

/** Reads and concatenates record files; every file must be a whole number of records. */
export async function readCifarRecords(files: readonly string[], labelBytes: number): Promise<CifarRecords> {
  const contents: { file: string; bytes: Uint8Array }[] = [];
  for (const file of files) contents.push({ file, bytes: await readDataFile(file) });
  return decodeCifarRecords(contents, labelBytes);
}

/** The record files' bytes, checked and concatenated; each `file` names its bytes in errors. */
export function decodeCifarRecords(files: readonly { file: string; bytes: Uint8Array }[], labelBytes: number): CifarRecords {
  const recordSize = labelBytes + CIFAR_IMAGE_BYTES;
  const buffers: Uint8Array[] = [];
  let count = 0;
  for (const { file, bytes } of files) {
    if (bytes.length === 0) throw new TruncatedFileError(`${file} is empty`);
    if (bytes.length % recordSize !== 0) {
      throw new TruncatedFileError(`${file} is truncated or corrupt: ${bytes.length} bytes is not a whole number of ${recordSize}-byte records`);
    }
    buffers.push(bytes);
    count += bytes.length / recordSize;
  }
  const images = new Uint8Array(count * CIFAR_IMAGE_BYTES);
  const labels = Array.from({ length: labelBytes }, () => new Int32Array(count));
  let n = 0;
  for (const bytes of buffers) {
    for (let offset = 0; offset < bytes.length; offset += recordSize, n++) {
      for (let k = 0; k < labelBytes; k++) labels[k]![n] = bytes[offset + k]!;
      images.set(bytes.subarray(offset + labelBytes, offset + recordSize), n * CIFAR_IMAGE_BYTES);
    }
  }
  return { images, labels, count };
}

export function checkLabels(labels: Int32Array, numClasses: number, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= numClasses) throw new CorruptFileError(`${what}: label ${labels[i]} of record ${i} is not a class (0..${numClasses - 1})`);
  }
}

/** Non-empty trimmed lines of a label-names file, or undefined if it is missing. */
export async function readLabelNames(file: string): Promise<string[] | undefined> {
  try {
    return (await fs.readFile(file, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  } catch {
    return undefined;
  }
}

/**
 * The folder holding the extracted files (`folder` inside a search dir): used as is when the user
 * extracted it by hand, else the archive is found/verified/downloaded and extracted next to it.
 */
export async function ensureExtracted(
  name: string, archive: RemoteFile, folder: string, required: readonly string[], options: FetchOptions,
): Promise<string> {
  for (const dir of searchDirs(name, options, options.extraDirs)) {
    const candidate = path.join(dir, folder);
    if (required.every((f) => existsSync(path.join(candidate, f)))) return candidate;
  }
  const archivePath = await ensureRemoteFile(name, archive, options);
  const target = path.dirname(archivePath);
  await extractTarGz(archivePath, target);
  const extracted = path.join(target, folder);
  const missing = required.filter((f) => !existsSync(path.join(extracted, f)));
  if (missing.length > 0) throw new CorruptFileError(`${archivePath} does not contain ${folder}/${missing.join(`, ${folder}/`)}`);
  return extracted;
}
