// prepareRun(config) → Run: everything a training run needs before its first step — the options
// resolved (or taken from the checkpoint it resumes), the data and loaders, the model checked
// against the data, the optimizer and schedule, the run folder and its Checkpointer.
import { dirname } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed } from '../tensor/random.js';
import { setThreads } from '../tensor/native.js';
import type { Module } from '../nn/module.js';
import { buildModel, getModel } from '../models/registry.js';
import { getDataset } from '../data/registry.js';
import { DataLoader, type EpochLoader } from '../data/loader.js';
import type { DownloadProgress } from '../data/download.js';
import type { Optimizer, ParamGroupInput } from '../optim/optimizer.js';
import { buildOptimizer } from '../optim/optimizers.js';
import { ConfigError } from '../errors.js';
import type { ModelConfig, DatasetFacts, Checkpoint } from './checkpoint.js';
import { resolveConfig } from './config.js';
import type { TrainConfig } from './options.js';
import { resumedConfig } from './resume.js';
import { Checkpointer, type Progress, type TrainingState } from './checkpointer.js';
import { Schedule } from './schedule.js';
import { GradientAccumulation } from './accumulation.js';
import { classWeightsFor } from './class-weights.js';
import { ModelEma } from './model-ema.js';
import { Mixup } from './mixup.js';
import { withoutInit } from '../nn/init.js';
import { balancedSampleWeights } from '../data/weighted-sampler.js';
import { claimRunFolder, writeArgs, readMetrics, carryMetrics } from './run-folder.js';
import { summarize } from '../nn/summary.js';
import { availableMemory, checkStepMemory, estimateStepMemory } from './memory-estimate.js';
import { loadSplits, transformFor } from './data.js';
import { DataParallel } from './distributed.js';
import { joinWorld } from '../dist/world.js';
import { isPhotoRun, loadPhotoData } from './photo-data.js';
import { initFromWeights, type InitReport } from './init-weights.js';
import { ensurePretrained } from '../data/pretrained.js';
import { normalizeSpec, resolveNormalization } from '../data/normalization.js';

export interface Run {
  config: TrainConfig;
  model: Module;
  modelConfig: ModelConfig;
  facts: DatasetFacts;
  /** --mixup/--cutmix: mixes each training batch and gives its soft targets. */
  mixup?: Mixup;
  /** --ema's moving average of the model. */
  ema?: ModelEma;
  /** Cross-entropy's per-class weight (--class-weights), if any. */
  lossWeight?: Tensor;
  /** The parameters the optimizer steps (all but a frozen backbone). */
  trainable: Tensor[];
  /** In-memory batches (built-in datasets) or streamed ones (image files). */
  trainLoader: EpochLoader;
  valLoader: EpochLoader;
  trainCount: number;
  valCount: number;
  valSource: string;
  /** Image files: whether decoded images stay in memory (planDecodedCache's sentence). */
  dataNote?: string;
  optimizer: Optimizer;
  schedule: Schedule;
  folder: string;
  /** This rank's part of a data-parallel run under mpirun (a world of one otherwise). */
  dp: DataParallel;
  /** Unlocks the run folder (and removes it if this run made it and wrote nothing); safe to call twice. */
  release: () => void;
  checkpointer: Checkpointer;
  /** Where the run stands; the next epoch is progress.epoch + 1. */
  progress: Progress;
  /** What --init loaded (null without it). */
  init: InitReport | null;
}

/** The classifier head that --freeze-backbone leaves trainable: a top-level fc or classifier. */
function headOf(model: Module, option = '--freeze-backbone'): Module {
  for (const [name, child] of model.namedChildren()) if (name === 'fc' || name === 'classifier') return child;
  throw new ConfigError(`${option}: ${model.typeName} has no fc or classifier head`, option);
}

async function loadData(c: TrainConfig, dp: DataParallel, onProgress?: (p: DownloadProgress) => void) {
  if (isPhotoRun(c)) return loadPhotoData(c, dp);
  const { train, val, valSource } = await loadSplits(c, onProgress);
  const numClasses = c.numClasses ?? train.classes.length;
  const maxLabel = train.labels.reduce((m, v) => Math.max(m, v), 0);
  if (maxLabel >= numClasses) throw new ConfigError(`--num-classes ${numClasses} is too small: ${c.dataset} has labels up to ${maxLabel}`, '--num-classes');
  const norm = resolveNormalization(normalizeSpec(c), train, train.channels);
  // The trainer keeps nothing of a batch past its step: two batch storages serve the whole run.
  const trainLoader = new DataLoader(train, { batchSize: c.batchSize, shuffle: true, seed: c.seed, transform: transformFor({ ...train, ...norm }, c.augment, true, c.imageSize, c), shard: dp.shard(true), reuseBatchStorage: true });
  const valLoader = new DataLoader(val, { batchSize: Math.max(c.batchSize, 256), transform: transformFor({ ...val, ...norm }, c.augment, false, c.imageSize), shard: dp.shard(false), reuseBatchStorage: true });
  const { channels, height, width } = trainLoader.plan.output;
  const inputShape: [number, number, number] = [channels, height, width];
  const facts: DatasetFacts = { name: c.dataset, classes: train.classes.slice(0, numClasses), ...norm, inputShape };
  return { trainLoader, valLoader, trainCount: train.count, valCount: val.count, valSource, numClasses, facts, trainLabels: train.labels };
}

/**
 * The model for the data's input, probed once (a size it cannot take is a clear error) and its
 * training step's memory estimated before anything is allocated.
 */
function buildRunModel(c: TrainConfig, numClasses: number, inputShape: [number, number, number]): { model: Module; modelConfig: ModelConfig } {
  const modelConfig: ModelConfig = { name: c.model, numClasses, inChannels: inputShape[0], ...(c.stem ? { stem: c.stem } : {}),
    ...(c.dropout !== undefined ? { dropout: c.dropout } : {}), ...(c.dropPath !== undefined ? { dropPath: c.dropPath } : {}) };
  const model = buildModel(c.model, modelConfig);
  let summary;
  try {
    summary = summarize(model, inputShape);
  } catch (err) {
    const [, h, w] = getModel(c.model).defaultInput;
    throw new ConfigError(`${c.model} is built for ${h}×${w} images and cannot take ${c.dataset}'s ${inputShape[1]}×${inputShape[2]} `
      + `(${(err as Error).message}); pass --image-size ${h} or choose another model (cnn models)`, '--image-size');
  }
  const optimizerSlots = c.optimizer === 'sgd' ? (c.momentum > 0 ? 1 : 0) : 2;
  checkStepMemory(estimateStepMemory(summary, c.batchSize, optimizerSlots), c.maxMemory ?? availableMemory(),
    `${c.model} on ${c.batchSize} images of ${inputShape.join('x')}`, c.maxMemory === undefined ? 'the memory available' : '--max-memory');
  if (c.freezeBackbone) {
    model.requiresGrad(false);
    headOf(model).requiresGrad(true);
  }
  return { model, modelConfig };
}

/** timm's Mixup when --mixup or --cutmix is on (their soft targets leave no place for --class-weights). */
function mixupFor(c: TrainConfig, numClasses: number): Mixup | undefined {
  const mixupAlpha = c.mixup ?? 0, cutmixAlpha = c.cutmix ?? 0;
  if (mixupAlpha === 0 && cutmixAlpha === 0) return undefined;
  if (c.classWeights) throw new ConfigError('--class-weights cannot be combined with --mixup/--cutmix (their soft-target loss has no class weights, as in timm)', '--class-weights');
  return new Mixup({ mixupAlpha, cutmixAlpha, mixProb: c.mixProb, switchProb: c.switchProb, labelSmoothing: c.labelSmoothing, numClasses });
}

/** Optimizer steps per epoch: what a per-step scheduler (onecycle) counts. */
function stepsPerEpoch(c: TrainConfig, batches: number): number {
  return new GradientAccumulation(batches, c.accumSteps).stepsPerEpoch;
}

/** One group at --lr, or with --backbone-lr the head at --lr and the rest at the backbone's (as PyTorch users write it). */
function paramGroups(c: TrainConfig, model: Module, trainable: Tensor[]): Tensor[] | ParamGroupInput[] {
  if (c.backboneLr === undefined) return trainable;
  if (c.freezeBackbone && c.unfreezeAt === undefined) throw new ConfigError('--backbone-lr has no effect with --freeze-backbone (the backbone does not train) unless --unfreeze-at', '--backbone-lr');
  const head = new Set(headOf(model, '--backbone-lr').parameters());
  return [{ params: trainable.filter((p) => head.has(p)) }, { params: trainable.filter((p) => !head.has(p)), lr: c.backboneLr }];
}

/** --pretrained's file, beside the datasets (an image folder's --data-dir is the photos, so not there). */
function pretrainedWeights(c: TrainConfig, onProgress?: (p: DownloadProgress) => void): Promise<string> {
  return ensurePretrained(c.model, { ...(isPhotoRun(c) ? {} : { dataDir: c.dataDir }), download: c.download, ...(onProgress ? { onProgress } : {}) });
}

/** The options (resolved, or the resumed run's) and the checkpoint resumed from. */
function configFor(given: Partial<TrainConfig>): { config: TrainConfig; resumed: { checkpoint: Checkpoint; state: TrainingState } | null } {
  if (!given.resume) {
    const config = resolveConfig(given);
    if (config.pretrained && config.init) throw new ConfigError('--pretrained and --init both choose the starting weights: pass one of them', '--pretrained');
    if (config.unfreezeAt !== undefined && !config.freezeBackbone) throw new ConfigError('--unfreeze-at needs --freeze-backbone (it ends the freeze)', '--unfreeze-at');
    if (config.initNonStrict && !config.init && !config.pretrained) throw new ConfigError('--init-non-strict needs --init FILE', '--init-non-strict');
    return { config, resumed: null };
  }
  if (given.init || given.pretrained) throw new ConfigError(`${given.init ? '--init' : '--pretrained'} starts a new run and --resume continues one: pass one of them`, given.init ? '--init' : '--pretrained');
  resolveConfig(given);
  const resumed = Checkpointer.read(given.resume, given.allowNonFinite);
  return { config: resumedConfig(given, given.resume, resumed.state), resumed };
}

/** Puts a resumed run where its checkpoint left it; a changed length re-plans the schedule and replays it. */
function resume(run: Run, checkpoint: Checkpoint, state: TrainingState): void {
  const c = run.config;
  run.progress = run.checkpointer.restore(checkpoint, state, c.resume!);
  if (state.config.epochs === c.epochs && state.batchesPerEpoch === run.trainLoader.length) {
    run.schedule.loadStateDict(state.schedule);
  } else {
    for (const g of run.optimizer.paramGroups) g.lr = g.initialLr;
    const steps = stepsPerEpoch(c, run.trainLoader.length);
    run.schedule = new Schedule(run.optimizer, c, steps);
    run.schedule.fastForward(state.epoch, steps, readMetrics(dirname(c.resume!)).map((r) => r.val_loss));
  }
  if (run.dp.isLeader) carryMetrics(dirname(c.resume!), run.folder, state.epoch);
}

/**
 * The run with its folder claimed (locked); on any failure the folder is released again.
 * `runFolder: false` (cnn lr-find) prepares the same run without one: nothing is written.
 */
export async function prepareRun(given: Partial<TrainConfig>, onDownloadProgress?: (p: DownloadProgress) => void, { runFolder = true } = {}): Promise<Run> {
  const { config: c, resumed } = configFor(given);
  getDataset(c.dataset);
  const dp = new DataParallel(joinWorld());
  // Rank 0 alone claims and writes the run folder.
  const { folder, release } = dp.isLeader && runFolder
    ? claimRunFolder({ out: c.out, model: c.model, dataset: c.dataset, resume: resumed !== null, overwrite: c.overwrite })
    : { folder: c.out ?? (runFolder ? "rank 0's run folder" : 'no run folder'), release: () => {} };
  try {
    return await prepareInFolder(c, resumed, { folder, release, dp, writes: runFolder }, onDownloadProgress);
  } catch (err) {
    release();
    throw err;
  }
}

async function prepareInFolder(c: TrainConfig, resumed: { checkpoint: Checkpoint; state: TrainingState } | null,
  { folder, release, dp, writes }: { folder: string; release: () => void; dp: DataParallel; writes: boolean }, onDownloadProgress?: (p: DownloadProgress) => void): Promise<Run> {
  const threads = c.threads ?? dp.defaultThreads();
  if (threads) setThreads(threads);
  manualSeed(c.seed);
  const { trainLabels, ...data } = await loadData(c, dp, onDownloadProgress);
  const lossWeight = c.classWeights ? new Tensor(classWeightsFor(c.classWeights, trainLabels, data.numClasses), [data.numClasses]) : undefined;
  if (c.sampler === 'balanced') data.trainLoader.sampleWeights = balancedSampleWeights(trainLabels);
  const { model, modelConfig } = buildRunModel(c, data.numClasses, data.facts.inputShape);
  const initFile = resumed ? undefined : c.pretrained ? await pretrainedWeights(c, onDownloadProgress) : c.init;
  const init = initFile ? initFromWeights(model, initFile, c.initNonStrict) : null;
  // Staged unfreezing: the optimizer holds the backbone from the start; it steps only what has gradients.
  const trainable = c.unfreezeAt === undefined ? model.parameters().filter((p) => p.requiresGrad) : model.parameters();
  // Parameters, gradients and optimizer state in one flat buffer each: one update per param group.
  const optimizer = buildOptimizer(c.optimizer, paramGroups(c, model, trainable), c).useFlatStorage();
  const schedule = new Schedule(optimizer, c, stepsPerEpoch(c, data.trainLoader.length));
  dp.attach(model, trainable, c.syncBn, optimizer.flatStorage);
  // A resumed run's EMA comes from its checkpoint (Checkpointer.restore), a fresh one starts as the model.
  const ema = c.ema === undefined ? undefined : new ModelEma(withoutInit(() => buildModel(c.model, modelConfig)), c.ema, model);
  const mixup = mixupFor(c, data.numClasses);
  const parts = {
    ...data, ...(lossWeight ? { lossWeight } : {}), ...(ema ? { ema } : {}), ...(mixup ? { mixup } : {}), config: c, model, modelConfig, optimizer, schedule, trainable, folder, release, dp, init,
    progress: { epoch: 0, bestAcc: -Infinity, bestEpoch: 0, epochsWithoutImprovement: 0 },
  };
  // The Checkpointer reads the run itself, so a schedule re-planned on resume is the one it saves.
  const run: Run = Object.assign(parts, { checkpointer: new Checkpointer(parts, folder) });
  if (resumed) resume(run, resumed.checkpoint, resumed.state);
  const { resume: resumedFrom, ...args } = c;
  if (dp.isLeader && writes) {
    writeArgs(folder, { ...args, out: folder, numClasses: data.numClasses, inputShape: data.facts.inputShape, resumedFrom: resumedFrom ?? null, ...(dp.size > 1 ? { ranks: dp.size } : {}) });
  }
  return run;
}
