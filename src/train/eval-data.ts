// Which images `cnn eval` evaluates: by default exactly the validation set of the run that wrote
// the checkpoint (its data, split fraction and seed, or held-out split, and its evaluation
// transform), read from the options the checkpoint records; --dataset, --data-dir, --split and
// --val-split choose another set.
import { loadDataset, getDataset } from '../data/registry.js';
import { splitDataset } from '../data/split.js';
import { DataLoader, type EpochLoader } from '../data/loader.js';
import type { Shard } from '../data/distributed-sampler.js';
import { openImageFiles } from '../data/image-files.js';
import { DEFAULT_PHOTO_SIZE, describeEvalTransform, openPhotoValidation, type PhotoRunOptions } from '../data/photo-splits.js';
import { photoTransforms } from '../data/photo-transforms.js';
import { StreamingLoader } from '../data/stream-loader.js';
import { CheckpointError, type Checkpoint } from './checkpoint.js';
import { checkTrainingState } from './training-state.js';
import { transformFor } from './data.js';
import { isPhotoRun, photoOptions } from './photo-data.js';
import type { TrainConfig } from './options.js';

export interface EvalChoice {
  dataset?: string;
  split?: string;
  dataDir?: string;
  /** Hold out this fraction of train (with the run's seed) instead of the run's own choice. */
  valSplit?: number;
  /** Image files: Resize(evalResize) + CenterCrop(crop) instead of the run's. */
  evalResize?: number;
  crop?: number;
  batchSize?: number;
}

export interface EvalData {
  loader: EpochLoader;
  dataset: string;
  /** 'val', 'test', … */
  split: string;
  /** Which images, in words: "20% of folder /data/pets, seed 0", "test split". */
  source: string;
  /** The run's own validation set (nothing overrode it). */
  runValidation: boolean;
  /** Image files: the transform, e.g. 'Resize(256) + CenterCrop(224)'. */
  transform?: string;
  classes: string[];
}

/** The options of the run that wrote the checkpoint, when it recorded them. */
function recordedConfig(path: string, checkpoint: Checkpoint): TrainConfig | null {
  return checkpoint.training ? checkTrainingState(path, checkpoint.training).config : null;
}

async function photoEvalData(path: string, checkpoint: Checkpoint, run: TrainConfig | null, o: EvalChoice, shard?: Shard): Promise<EvalData> {
  const [channels, height] = checkpoint.dataset.inputShape;
  const base: PhotoRunOptions = run && isPhotoRun(run) ? photoOptions(run) : { valSplit: 0, seed: 0, augment: 'none' };
  const crop = o.crop ?? height ?? DEFAULT_PHOTO_SIZE;
  const options: PhotoRunOptions = {
    ...base, channels: channels as 1 | 3, imageSize: crop, augment: 'none', skipBadImages: false, cacheDecoded: false, cacheIndex: true,
    evalResize: o.evalResize ?? (o.crop === undefined ? checkpoint.dataset.evalResize ?? base.evalResize : undefined),
    ...(o.valSplit === undefined ? {} : { valSplit: o.valSplit }),
  };
  if (o.dataDir !== undefined) Object.assign(options, { dataDir: o.dataDir, labels: undefined, trainCsv: undefined, valCsv: undefined });
  const batchSize = o.batchSize ?? 64;
  const transform = describeEvalTransform(options);
  const runValidation = o.split === undefined && o.dataDir === undefined && o.valSplit === undefined;
  if (o.split !== undefined) {
    const files = await openImageFiles(o.split, options);
    const t = photoTransforms({ size: crop, augment: 'none', evalResize: options.evalResize, mean: checkpoint.dataset.mean, std: checkpoint.dataset.std }, false);
    const loader = new StreamingLoader(files, { ...t, batchSize, shard });
    return { loader, dataset: 'imagefolder', split: o.split, source: files.source, runValidation, transform, classes: files.classes };
  }
  if (!options.dataDir && !options.labels && !options.trainCsv) {
    throw new CheckpointError(`${path} does not record where its images were: pass --data-dir (or --split with --data-dir)`, path);
  }
  const { loader, valSource } = await openPhotoValidation(options, { batchSize, shard });
  return { loader, dataset: 'imagefolder', split: 'val', source: valSource, runValidation, transform, classes: loader.dataset.classes };
}

async function builtInEvalData(checkpoint: Checkpoint, run: TrainConfig | null, o: EvalChoice, shard?: Shard): Promise<EvalData> {
  const [channels, height] = checkpoint.dataset.inputShape;
  const name = o.dataset ?? checkpoint.dataset.name;
  const sameRun = run !== null && run.dataset === name;
  const valSplit = o.split !== undefined ? 0 : o.valSplit ?? (sameRun ? run.valSplit : 0);
  const load = { dataDir: o.dataDir ?? (sameRun ? run.dataDir : undefined), download: true, imageSize: height, channels: channels as 1 | 3 };
  const runValidation = o.split === undefined && o.dataset === undefined && o.dataDir === undefined && o.valSplit === undefined;
  let ds, split, source;
  if (valSplit > 0) {
    const seed = sameRun ? run.seed : 0;
    ds = splitDataset(await loadDataset(name, 'train', load), valSplit, seed).val;
    split = 'val';
    source = `${+(valSplit * 100).toFixed(4)}% of train, seed ${seed}`;
  } else {
    const def = getDataset(name);
    split = o.split ?? (def.splits.includes('val') ? 'val' : 'test');
    ds = await loadDataset(name, split, load);
    source = `${split} split`;
  }
  const loader = new DataLoader(ds, { batchSize: o.batchSize ?? 256, transform: transformFor({ ...ds, mean: checkpoint.dataset.mean, std: checkpoint.dataset.std }, 'none', false, height), shard, reuseBatchStorage: true });
  return { loader, dataset: name, split, source, runValidation, classes: ds.classes };
}

/** The loader `cnn eval` runs, and what it holds. */
export async function evalData(path: string, checkpoint: Checkpoint, o: EvalChoice, shard?: Shard): Promise<EvalData> {
  const run = recordedConfig(path, checkpoint);
  const name = o.dataset ?? checkpoint.dataset.name;
  const data = name === 'imagefolder' ? await photoEvalData(path, checkpoint, run, o, shard) : await builtInEvalData(checkpoint, run, o, shard);
  const channels = checkpoint.dataset.inputShape[0];
  if (data.loader.plan.output.channels !== channels) {
    throw new CheckpointError(`${path} expects ${channels}-channel images but ${name} has ${data.loader.plan.output.channels}`, path);
  }
  return data;
}
