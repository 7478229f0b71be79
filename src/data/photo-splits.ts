// The data side of a run on image files: the training and validation loaders (streamed from disk),
// and a description of the validation set that `cnn eval` reproduces from the run's options.
import os from 'node:os';
import type { AugmentLevel } from './presets.js';
import { openImageFiles, splitImageFiles, type ImageFilesOptions } from './image-files.js';
import { defaultEvalResize, photoTransforms } from './photo-transforms.js';
import { StreamingLoader, type ImageFiles } from './stream-loader.js';
import type { Shard } from './distributed-sampler.js';

/** The options of a run that decide its image files and how they are cut (all recorded in the run). */
import { resolveNormalization, type NormalizeSpec } from './normalization.js';

export interface PhotoRunOptions extends ImageFilesOptions {
  /** Hold out this fraction of train for validation (0: the val/test folder or --val-csv). */
  valSplit: number;
  seed: number;
  /** Side of the square crop the model sees (default 224). */
  imageSize?: number;
  augment: AugmentLevel;
  /** RandomResizedCrop's smallest scale (default 0.08) and its ratio range (default 3/4, 4/3). */
  rrcScale?: number;
  rrcRatio?: [number, number];
  /** --auto-augment (training loader only). */
  autoAugment?: string;
  /** Shorter side before the evaluation centre crop (default imageSize / 0.875). */
  evalResize?: number;
  skipBadImages?: boolean;
  /** Keep decoded images in memory (up to cacheBudgetBytes()): for folders that fit. */
  cacheDecoded?: boolean;
  /** Normalize's statistics (default: the files' own). */
  normalize?: NormalizeSpec;
}

/** What --cache-decoded may hold: a quarter of the machine's memory, at most 4 GiB. */
export function cacheBudgetBytes(): number {
  return Math.min(4 * 2 ** 30, Math.floor(os.totalmem() / 4));
}

export const DEFAULT_PHOTO_SIZE = 224;

/** The validation split of a run: its files and the words that say which they are. */
export async function photoValidationFiles(o: PhotoRunOptions): Promise<{ files: ImageFiles; valSource: string; train?: ImageFiles }> {
  if (o.valSplit > 0) {
    const all = await openImageFiles('train', o);
    const { train, val } = splitImageFiles(all, o.valSplit, o.seed);
    return { files: val, train, valSource: `${+(o.valSplit * 100).toFixed(4)}% of ${all.source}, seed ${o.seed}` };
  }
  const files = await openImageFiles('val', o);
  return { files, valSource: files.source };
}

/** 'Resize(256) + CenterCrop(224)' for the run's evaluation transform. */
export function describeEvalTransform(o: Pick<PhotoRunOptions, 'imageSize' | 'evalResize'>): string {
  const size = o.imageSize ?? DEFAULT_PHOTO_SIZE;
  return `Resize(${o.evalResize ?? defaultEvalResize(size)}) + CenterCrop(${size})`;
}

export interface LoaderSettings {
  batchSize: number;
  /** Images decoding at once (default 4). */
  concurrency?: number;
  shard?: Shard;
}

function loader(files: ImageFiles, o: PhotoRunOptions, train: boolean, s: LoaderSettings): StreamingLoader {
  const size = o.imageSize ?? DEFAULT_PHOTO_SIZE;
  const t = photoTransforms({
    size, augment: o.augment, ...resolveNormalization(o.normalize ?? 'dataset', files, files.channels), evalResize: o.evalResize,
    scale: o.rrcScale === undefined ? undefined : [o.rrcScale, 1], ratio: o.rrcRatio, autoAugment: o.autoAugment,
  }, train);
  return new StreamingLoader(files, {
    ...t, batchSize: s.batchSize, shuffle: train, seed: o.seed, skipBadImages: o.skipBadImages, concurrency: s.concurrency,
    cacheDecodedBytes: o.cacheDecoded ? cacheBudgetBytes() : 0,
    shard: s.shard,
  });
}

/** Both loaders of a training run. */
export async function openPhotoSplits(o: PhotoRunOptions, train: LoaderSettings, val: LoaderSettings):
  Promise<{ train: StreamingLoader; val: StreamingLoader; valSource: string }> {
  const v = await photoValidationFiles(o);
  const trainFiles = v.train ?? (await openImageFiles('train', o));
  return { train: loader(trainFiles, o, true, train), val: loader(v.files, o, false, val), valSource: v.valSource };
}

/** The run's validation loader alone (what `cnn eval` reproduces). */
export async function openPhotoValidation(o: PhotoRunOptions, s: LoaderSettings): Promise<{ loader: StreamingLoader; valSource: string }> {
  const v = await photoValidationFiles(o);
  return { loader: loader(v.files, o, false, s), valSource: v.valSource };
}
