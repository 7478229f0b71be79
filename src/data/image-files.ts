// Image-file datasets by layout: an ImageFolder tree (ROOT/<class>/…, or ROOT/train|val|test/<class>/…)
// or labels files (`path,label` CSV/TSV: one file with --labels, or --train-csv and --val-csv).
// Each split is an index of files (listed once, cached) that the streaming loader decodes per batch.
import path from 'node:path';
import { readLabelsFile } from './csv-labels.js';
import { DatasetNotFoundError, DatasetOptionError } from './errors.js';
import { indexImageFolder, type FileIndex } from './file-index.js';
import { imageFolderSplitRoot } from './imagefolder.js';
import { splitIndices } from './split.js';
import { IMAGENET_GRAY_STATS, IMAGENET_STATS, type ImageFiles } from './stream-loader.js';

export interface ImageFilesOptions {
  /** An ImageFolder root. */
  dataDir?: string;
  /** One labels file for the whole dataset (its train split; hold out val with a val split). */
  labels?: string;
  trainCsv?: string;
  valCsv?: string;
  /** 3 (RGB, default) or 1 (grayscale). */
  channels?: 1 | 3;
  /** Relative paths resolve here (default process.cwd()). */
  cwd?: string;
  /** Cache an ImageFolder's listing beside it (default true). */
  cacheIndex?: boolean;
}

/** True when the options name image files rather than a built-in dataset's files. */
export function usesLabelsFiles(o: ImageFilesOptions): boolean {
  return o.labels !== undefined || o.trainCsv !== undefined || o.valCsv !== undefined;
}

function withStats(index: FileIndex, split: string, source: string, channels: 1 | 3): ImageFiles {
  const stats = channels === 1 ? IMAGENET_GRAY_STATS : IMAGENET_STATS;
  return { ...index, name: 'imagefolder', split, channels, mean: [...stats.mean], std: [...stats.std], source };
}

/** One split ('train', 'val' or 'test') of an image-file dataset. */
export async function openImageFiles(split: string, o: ImageFilesOptions): Promise<ImageFiles> {
  const at = (p: string) => path.resolve(o.cwd ?? process.cwd(), p);
  const channels = o.channels ?? 3;
  if (o.labels !== undefined && (o.trainCsv !== undefined || o.valCsv !== undefined)) {
    throw new DatasetOptionError('give either --labels (one file for everything) or --train-csv/--val-csv, not both');
  }
  if (usesLabelsFiles(o)) {
    const trainFile = o.labels ?? o.trainCsv;
    if (trainFile === undefined) throw new DatasetOptionError('--val-csv needs --train-csv (the classes come from the training file)');
    const train = await readLabelsFile(at(trainFile), undefined, { cache: o.cacheIndex ?? true });
    if (split === 'train') return withStats(train, split, `labels ${at(trainFile)}`, channels);
    if (o.valCsv === undefined) {
      throw new DatasetNotFoundError(`${o.labels !== undefined ? '--labels' : '--train-csv'} gives only a train split: add --val-csv FILE or --val-split FRACTION`);
    }
    return withStats(await readLabelsFile(at(o.valCsv), train.classes, { cache: o.cacheIndex ?? true }), split, `labels ${at(o.valCsv)}`, channels);
  }
  if (o.dataDir === undefined) throw new DatasetOptionError('imagefolder needs --data-dir (a folder with one sub-folder per class) or --labels FILE.csv');
  const root = at(o.dataDir);
  const splitRoot = imageFolderSplitRoot(root, split);
  const index = await indexImageFolder(splitRoot, { cache: o.cacheIndex ?? true });
  if (split !== 'train') {
    const train = await indexImageFolder(imageFolderSplitRoot(root, 'train'), { cache: o.cacheIndex ?? true });
    if (train.classes.join('\n') !== index.classes.join('\n')) {
      throw new DatasetNotFoundError(`image folder ${root}: ${path.basename(splitRoot)}/ has classes ${index.classes.join(', ')} but train/ has ${train.classes.join(', ')}`);
    }
  }
  return withStats(index, split, `folder ${splitRoot}`, channels);
}

/** The files at `indices`, in that order, as split `split`. */
export function subsetImageFiles(ds: ImageFiles, indices: ArrayLike<number>, split: string): ImageFiles {
  const labels = Int32Array.from(indices, (i) => ds.labels[i]!);
  const sizes = Float64Array.from(indices, (i) => ds.sizes[i]!);
  return { ...ds, split, files: ds.files.subset(indices), labels, sizes };
}

/** --val-split on image files: the same seeded permutation as splitDataset. */
export function splitImageFiles(ds: ImageFiles, fraction: number, seed = 0): { train: ImageFiles; val: ImageFiles } {
  const { train, val } = splitIndices(ds.files.length, fraction, seed);
  return { train: subsetImageFiles(ds, train, 'train'), val: subsetImageFiles(ds, val, 'val') };
}
