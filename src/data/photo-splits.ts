// The data side of a run on image files: the training and validation loaders (streamed from disk),
// and a description of the validation set that `cnn eval` reproduces from the run's options.
import os from 'node:os';
import type { AugmentLevel } from './presets.js';
import { openImageFiles, splitImageFiles, type ImageFilesOptions } from './image-files.js';
import { defaultEvalResize, photoTransforms } from './photo-transforms.js';
import { StreamingLoader, type ImageFiles } from './stream-loader.js';
import type { Shard } from './distributed-sampler.js';
import { resolveNormalization, type NormalizeSpec } from './normalization.js';
import { estimateDecodedBytes } from './decoded-size.js';
import { nativeJpegDecoder } from './jpeg-crops.js';

/** The options of a run that decide its image files and how they are cut (all recorded in the run). */
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
  /**
   * Keep decoded images in memory: true keeps what fits the budget (--cache-decoded), 'auto' (the
   * default) keeps them when all of them are estimated to fit and the native JPEG decoder does not
   * read them, false never (--no-cache-decoded; one pass, as `cnn eval`).
   */
  cacheDecoded?: boolean | 'auto';
  /** Bytes decoded images may hold (default cacheBudgetBytes()). */
  cacheBudget?: number;
  /** Normalize's statistics (default: the files' own). */
  normalize?: NormalizeSpec;
}

/** What decoded images may hold: a quarter of `memory` (default: what is free now), at most 4 GiB. */
export function cacheBudgetBytes(memory = os.freemem()): number {
  return Math.min(4 * 2 ** 30, Math.floor(memory / 4));
}

const megabytes = (n: number) => `${Math.ceil(n / 2 ** 20).toLocaleString('en-US')} MB`;

/**
 * Whether the addon's JPEG decoder reads a split (3 channels, JPEGs by name in a sample of its
 * files): it crops from the file faster than sharp crops a decoded image kept in memory (1.0
 * against 1.9 ms of CPU an image at 224 on 500×375 photos), so keeping them would only cost memory.
 */
function decodedNatively(split: ImageFiles): boolean {
  const n = split.files.length, sample = Math.min(n, 32);
  if (!nativeJpegDecoder || split.channels !== 3 || n === 0) return false;
  let jpegs = 0;
  for (let k = 0; k < sample; k++) if (/\.jpe?g$/i.test(split.files.at(Math.floor(((k + 0.5) * n) / sample)))) jpegs++;
  return 2 * jpegs > sample;
}

/** Bytes of decoded images each split's loader may keep, and the sentence that says so. */
export interface DecodedCachePlan {
  bytes: number[];
  note: string;
}

/**
 * Whether the splits' decoded images stay in memory: estimated from the index (estimateDecodedBytes)
 * against the budget; when they do, each split gets a share of the budget in proportion to its estimate.
 */
export async function planDecodedCache(splits: ImageFiles[], o: Pick<PhotoRunOptions, 'cacheDecoded' | 'cacheBudget'>): Promise<DecodedCachePlan> {
  const mode = o.cacheDecoded ?? 'auto';
  if (mode === false) return { bytes: splits.map(() => 0), note: 'images decoded per batch' };
  if (mode === 'auto' && splits.every(decodedNatively)) {
    return { bytes: splits.map(() => 0), note: `images decoded per batch (JPEGs by ${nativeJpegDecoder}, faster than cropping kept images)` };
  }
  const budget = o.cacheBudget ?? cacheBudgetBytes();
  const estimates = await Promise.all(splits.map((f) => estimateDecodedBytes(f, f.channels)));
  const total = estimates.reduce((a, b) => a + b, 0);
  const about = Number.isFinite(total) ? `about ${megabytes(total)} decoded` : 'decoded size unknown';
  if (mode === 'auto' && !(total <= budget)) {
    return { bytes: splits.map(() => 0), note: `images decoded per batch (${about}, over the ${megabytes(budget)} budget for keeping them)` };
  }
  const share = (k: number) => (Number.isFinite(total) && total > 0 ? Math.floor((budget * estimates[k]!) / total) : Math.floor(budget / splits.length));
  const why = mode === true ? '--cache-decoded' : `${about}, within the ${megabytes(budget)} budget`;
  return { bytes: splits.map((_, k) => share(k)), note: `decoded images kept in memory once read (${why})` };
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

function loader(files: ImageFiles, o: PhotoRunOptions, train: boolean, s: LoaderSettings, cacheBytes: number): StreamingLoader {
  const size = o.imageSize ?? DEFAULT_PHOTO_SIZE;
  const t = photoTransforms({
    size, augment: o.augment, ...resolveNormalization(o.normalize ?? 'dataset', files, files.channels), evalResize: o.evalResize,
    scale: o.rrcScale === undefined ? undefined : [o.rrcScale, 1], ratio: o.rrcRatio, autoAugment: o.autoAugment,
  }, train);
  return new StreamingLoader(files, {
    ...t, batchSize: s.batchSize, shuffle: train, seed: o.seed, skipBadImages: o.skipBadImages, concurrency: s.concurrency,
    cacheDecodedBytes: cacheBytes,
    shard: s.shard,
  });
}

/** Both loaders of a training run; `dataNote` says whether decoded images stay in memory. */
export async function openPhotoSplits(o: PhotoRunOptions, train: LoaderSettings, val: LoaderSettings):
  Promise<{ train: StreamingLoader; val: StreamingLoader; valSource: string; dataNote: string }> {
  const v = await photoValidationFiles(o);
  const trainFiles = v.train ?? (await openImageFiles('train', o));
  const cache = await planDecodedCache([trainFiles, v.files], o);
  return {
    train: loader(trainFiles, o, true, train, cache.bytes[0]!), val: loader(v.files, o, false, val, cache.bytes[1]!),
    valSource: v.valSource, dataNote: cache.note,
  };
}

/** The run's validation loader alone (what `cnn eval` reproduces). */
export async function openPhotoValidation(o: PhotoRunOptions, s: LoaderSettings): Promise<{ loader: StreamingLoader; valSource: string }> {
  const v = await photoValidationFiles(o);
  const cache = await planDecodedCache([v.files], o);
  return { loader: loader(v.files, o, false, s, cache.bytes[0]!), valSource: v.valSource };
}
