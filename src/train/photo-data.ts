// The data of a run on image files (--dataset imagefolder, or --labels / --train-csv): loaders that
// stream from disk with torchvision's crops, and the facts the checkpoint keeps so `cnn eval` and
// `cnn predict` see images as the run's validation did.
import { usesLabelsFiles } from '../data/image-files.js';
import type { EpochLoader } from '../data/loader.js';
import { StreamingLoader } from '../data/stream-loader.js';
import { cacheBudgetBytes, DEFAULT_PHOTO_SIZE, openPhotoSplits, type PhotoRunOptions } from '../data/photo-splits.js';
import { availableMemory } from './memory-estimate.js';
import { defaultEvalResize } from '../data/photo-transforms.js';
import { normalizeSpec, resolveNormalization } from '../data/normalization.js';
import { ConfigError } from '../errors.js';
import { getModel } from '../models/registry.js';
import type { DatasetFacts } from './checkpoint.js';
import type { TrainConfig } from './options.js';
import type { DataParallel } from './distributed.js';

type PhotoKeys = 'maxMemory' | 'normalize' | 'pretrained' | 'dataset' | 'dataDir' | 'labels' | 'trainCsv' | 'valCsv' | 'valSplit' | 'seed' | 'imageSize' | 'augment'
  | 'randomResizedCrop' | 'rrcRatio' | 'evalResize' | 'skipBadImages' | 'cacheDecoded' | 'autoAugment';

/** Image files streamed from disk, rather than a built-in dataset held in memory. */
export function isPhotoRun(c: Pick<TrainConfig, 'dataset' | 'labels' | 'trainCsv' | 'valCsv'>): boolean {
  return c.dataset === 'imagefolder' || usesLabelsFiles(c);
}

/**
 * The run's image-file options. Crops are the model's own input (its channels and size, e.g.
 * 3×224×224 for resnet18, 1×28×28 for lenet5) unless --image-size says otherwise.
 */
export function photoOptions(c: Pick<TrainConfig, PhotoKeys | 'model'>): PhotoRunOptions {
  const [channels, size] = getModel(c.model).defaultInput;
  return {
    channels: channels === 1 ? 1 : 3, imageSize: c.imageSize ?? size,
    dataDir: c.dataDir, labels: c.labels, trainCsv: c.trainCsv, valCsv: c.valCsv, valSplit: c.valSplit, seed: c.seed,
    augment: c.augment, rrcScale: c.randomResizedCrop, rrcRatio: c.rrcRatio, evalResize: c.evalResize,
    skipBadImages: c.skipBadImages, cacheDecoded: c.cacheDecoded ?? 'auto', normalize: normalizeSpec(c), autoAugment: c.autoAugment,
    // A quarter of what a step may use (--max-memory) or of the memory available.
    cacheBudget: cacheBudgetBytes(c.maxMemory ?? availableMemory()),
  };
}

export async function loadPhotoData(c: TrainConfig, dp: DataParallel) {
  const o = photoOptions(c);
  // Validation batches of photos are as big as training's: 256 crops of 224² would be 150 MB each.
  const { train: trainLoader, val: valLoader, valSource, dataNote } = await openPhotoSplits(o, { batchSize: c.batchSize, shard: dp.shard(true) }, { batchSize: c.batchSize, shard: dp.shard(false) });
  const train = trainLoader.dataset;
  const numClasses = c.numClasses ?? train.classes.length;
  const maxLabel = train.labels.reduce((m, v) => Math.max(m, v), 0);
  if (maxLabel >= numClasses) throw new ConfigError(`--num-classes ${numClasses} is too small: ${train.source} has labels up to ${maxLabel}`, '--num-classes');
  const size = o.imageSize ?? DEFAULT_PHOTO_SIZE;
  const facts: DatasetFacts = {
    name: 'imagefolder', classes: train.classes.slice(0, numClasses), ...resolveNormalization(o.normalize ?? 'dataset', train, train.channels),
    inputShape: [train.channels, size, size], evalResize: c.evalResize ?? defaultEvalResize(size), source: train.source, valSource,
  };
  return { trainLoader, valLoader, trainCount: trainLoader.count, valCount: valLoader.count, valSource, numClasses, facts, trainLabels: train.labels, dataNote };
}

/** "epoch 3: skipped 2 unreadable images (a.jpg, b.jpg)" when --skip-bad-images skipped any. */
export function badImagesNote(epoch: number, loaders: readonly EpochLoader[]): string | null {
  const bad = loaders.flatMap((l) => (l instanceof StreamingLoader ? l.badImages : []));
  if (bad.length === 0) return null;
  const shown = bad.slice(0, 3).join(', ') + (bad.length > 3 ? ', …' : '');
  return `epoch ${epoch}: skipped ${bad.length} unreadable image${bad.length > 1 ? 's' : ''} (${shown})`;
}
