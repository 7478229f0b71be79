// What every dataset file exports, so the registry can list, download and load them by name.
import type { ImageDataset } from './dataset.js';
import type { RemoteFile } from './download.js';
import type { FetchOptions } from './remote-files.js';

export interface LoadOptions extends FetchOptions {
  /** imagefolder: images are resized to imageSize × imageSize (default 32). */
  imageSize?: number;
  /** imagefolder: 3 (RGB, default) or 1 (grayscale). */
  channels?: 1 | 3;
}

export interface DatasetDefinition {
  name: string;
  description: string;
  splits: readonly string[];
  /** Fixed image shape, when the dataset has one (imagefolder does not). */
  shape?: { channels: number; height: number; width: number };
  numClasses?: number;
  /** Published files (empty for bundled and local datasets). */
  files: readonly RemoteFile[];
  source: string;
  license: string;
  /** Folders searched after the data root, e.g. where a distribution package installs it. */
  extraDirs?: readonly string[];
  /** Shipped with the package (works offline on a fresh clone): the folder its files are in. */
  bundledDir?: () => string;
  load(split: string, options?: LoadOptions): Promise<ImageDataset>;
}
