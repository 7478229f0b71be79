// --pretrained: torchvision's official ImageNet weights, fetched once into <data root>/weights/
// and verified against the SHA-256 prefix in their file names (as torch.hub checks them).
// CNN_WEIGHTS_URL replaces https://download.pytorch.org/models/ (a mirror, or a test server).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { verifyFile } from './checksum.js';
import { downloadFile, type DownloadOptions, type RemoteFile } from './download.js';
import { DatasetOptionError } from './errors.js';
import { dataRoot, type DataLocationOptions } from './location.js';
import { imagenetFacts } from './imagenet.js';

export interface PretrainedOptions extends DataLocationOptions, DownloadOptions {
  /** Fetch a missing file (default true). */
  download?: boolean;
}

/** The models --pretrained knows, in registry order. */
export function pretrainedModels(): string[] {
  return Object.keys(imagenetFacts().weights);
}

/** The published file of `model`'s ImageNet weights (URL after CNN_WEIGHTS_URL), or an error naming the choices. */
export function pretrainedFile(model: string, options: DataLocationOptions = {}): RemoteFile {
  const entry = imagenetFacts().weights[model];
  if (!entry) throw new DatasetOptionError(`--pretrained has no ImageNet weights for ${model}; it has them for ${pretrainedModels().join(', ')}`);
  const file = entry.url.slice(entry.url.lastIndexOf('/') + 1);
  const prefix = /-([0-9a-f]{8,})\.pth$/.exec(file)?.[1];
  if (!prefix) throw new TypeError(`${file} carries no hash prefix`);
  const base = (options.env ?? process.env).CNN_WEIGHTS_URL;
  const url = base ? `${base.replace(/\/+$/, '')}/${file}` : entry.url;
  return { file, urls: [url], sha256Prefix: prefix, format: 'any' };
}

/** Where --pretrained keeps weight files: <data root>/weights/. */
export function weightsDir(options: DataLocationOptions = {}): string {
  return path.join(dataRoot(options), 'weights');
}

/** The local path of `model`'s verified ImageNet weights (see fetchWeights). */
export async function ensurePretrained(model: string, options: PretrainedOptions = {}): Promise<string> {
  return fetchWeights(model, pretrainedFile(model, options), options);
}

/**
 * A weight file in <data root>/weights/: the cached copy when it is there (hashed once, then
 * remembered), else downloaded and verified. Offline, the error names the URL and --init FILE.
 */
export async function fetchWeights(model: string, remote: RemoteFile, options: PretrainedOptions = {}): Promise<string> {
  const destination = path.join(weightsDir(options), remote.file);
  if (existsSync(destination)) {
    await verifyFile(destination, [remote]);
    return destination;
  }
  const manualHint = 'or pass the file to --init FILE';
  if (options.download === false) {
    throw new DatasetOptionError(`${model}: ${remote.file} is not in ${weightsDir(options)}; download it from ${remote.urls[0]} and put it there, ${manualHint}`);
  }
  await downloadFile(remote, destination, { ...options, manualHint });
  return destination;
}
