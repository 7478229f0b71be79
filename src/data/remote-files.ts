// Makes a dataset's published files available locally: find (in the search folders), verify
// (once; the marker remembers), or download when allowed — else one message saying what to do.
import path from 'node:path';
import { verifyFile } from './checksum.js';
import { acceptedChecksums, downloadFile, manualDownloadMessage, type DownloadOptions, type RemoteFile } from './download.js';
import { DatasetNotFoundError } from './errors.js';
import { datasetDir, findFile, manualHint, searchDirs, type DataLocationOptions } from './location.js';

export interface FetchOptions extends DataLocationOptions, DownloadOptions {
  /** Download missing files (default false: torchvision's download=False). */
  download?: boolean;
  /** Folders searched after the data root (e.g. /usr/share/datasets/fashion-mnist). */
  extraDirs?: readonly string[];
}

/** Returns the verified local path of `remote`, downloading it if allowed. */
export async function ensureRemoteFile(name: string, remote: RemoteFile, options: FetchOptions = {}): Promise<string> {
  const found = findFile(searchDirs(name, options, options.extraDirs), remote.file);
  if (found) {
    await verifyFile(found, acceptedChecksums(remote));
    return found;
  }
  const destination = path.join(datasetDir(name, options), remote.file);
  const hint = manualHint(name, options);
  if (!options.download) {
    throw new DatasetNotFoundError(`${name}: ${remote.file} not found. Run \`cnn datasets download ${name}\`, or `
      + manualDownloadMessage(remote, destination, hint).replace(/^D/, 'd'));
  }
  await downloadFile(remote, destination, { ...options, manualHint: options.manualHint ?? hint });
  return destination;
}

export async function ensureRemoteFiles(name: string, files: readonly RemoteFile[], options: FetchOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for (const remote of files) out.push(await ensureRemoteFile(name, remote, options));
  return out;
}
