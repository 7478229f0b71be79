// The training loop: data → forward → loss → backward → optimizer step → schedule → metrics →
// progress → checkpoints (last.bin every epoch, best.bin on a new best validation accuracy).
import { dirname, join } from 'node:path';
import { defaultGenerator, manualSeed, type GeneratorState } from '../tensor/random.js';
import { getThreads, setThreads } from '../tensor/native.js';
import { crossEntropy, accuracyTopK } from '../tensor/loss.js';
import type { Module } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/norm.js';
import { buildModel, getModel } from '../models/registry.js';
import { getDataset } from '../data/registry.js';
import { DataLoader } from '../data/loader.js';
import { datasetStats } from '../data/presets.js';
import type { DownloadProgress } from '../data/download.js';
import { renderCurves } from '../viz/curves.js';
import { saveCheckpoint, loadCheckpoint, nonFiniteTensors, describeTensors, type ModelConfig, type DatasetFacts } from './checkpoint.js';
import { ConfigError, resolveConfig, type TrainConfig } from './config.js';
import { RunningMetrics } from './metrics.js';
import { availableMemory, checkStepMemory, estimateStepMemory } from './memory-estimate.js';
import { summarize } from '../nn/summary.js';
import { evaluate } from './evaluate.js';
import { Schedule, buildOptimizer } from './schedule.js';
import { claimRunFolder, type RunFolder, writeArgs, appendMetrics, readMetrics, truncateMetrics } from './run-folder.js';
import type { TrainReporter } from './progress.js';
import { loadSplits, transformFor } from './data.js';
import { QuietReporter } from './progress.js';
import { DataParallel } from './distributed.js';
import { joinWorld } from '../dist/world.js';

/** Stopped on a non-finite loss or non-finite weights; names the last checkpoint that is still finite. */
export class NonFiniteLossError extends Error {}

/** The JSON part of a checkpoint's training state. */
interface TrainingState {
  epoch: number;
  bestAcc: number;
  bestEpoch: number;
  epochsWithoutImprovement: number;
  config: TrainConfig;
  optimizer: unknown;
  schedule: Record<string, unknown>;
  rng: GeneratorState;
  batchesPerEpoch: number;
  interrupted?: boolean;
}

export interface TrainOptions {
  /** Rank 0's; the other ranks of a data-parallel run report nothing. */
  reporter: TrainReporter;
  /** Polled after every step: true finishes the step, writes last.bin and returns. */
  shouldStop?: () => boolean;
  onDownloadProgress?: (p: DownloadProgress) => void;
  /** --overwrite: replace the run already in --out instead of refusing. */
  overwrite?: boolean;
  /** --allow-nonfinite: resume from a checkpoint holding NaN or Inf. */
  allowNonFinite?: boolean;
  /** --max-memory in bytes: the limit a training step's estimate is checked against (default: available memory). */
  maxMemory?: number;
}

export interface TrainResult {
  out: string;
  bestAcc: number;
  bestEpoch: number;
  lastEpoch: number;
  stopped: 'completed' | 'early-stopped' | 'interrupted';
}

/** The classifier head that --freeze-backbone leaves trainable: a top-level fc or classifier. */
function headOf(model: Module): Module {
  for (const [name, child] of model.namedChildren()) if (name === 'fc' || name === 'classifier') return child;
  throw new ConfigError(`--freeze-backbone: ${model.typeName} has no fc or classifier head`);
}

/** train() mode, except frozen BatchNorm layers, which keep their running statistics (eval). */
function setTrainMode(model: Module, frozen: boolean): void {
  model.train();
  if (!frozen) return;
  for (const m of model.modules()) {
    if ((m instanceof BatchNorm2d || m instanceof BatchNorm1d) && m.parameters().every((p) => !p.requiresGrad)) m.eval();
  }
}

/** Trains in a locked run folder; the lock is released however the run ends. */
export async function train(partial: Partial<TrainConfig>, options: TrainOptions): Promise<TrainResult> {
  const held: RunFolder[] = [];
  try {
    return await trainInFolder(partial, options, held);
  } finally {
    for (const run of held) run.release();
  }
}

async function trainInFolder(partial: Partial<TrainConfig>, options: TrainOptions, held: RunFolder[]): Promise<TrainResult> {
  // Under mpirun: this rank's part of a data-parallel run (a world of one otherwise).
  const dp = new DataParallel(joinWorld());
  const reporter = dp.isLeader ? options.reporter : new QuietReporter();
  const leader = dp.isLeader;
  let c = resolveConfig(partial);
  let resumed: ReturnType<typeof loadCheckpoint> | null = null;
  let state: TrainingState | null = null;
  if (c.resume) {
    resumed = loadCheckpoint(c.resume, { allowNonFinite: options.allowNonFinite });
    state = resumed.training as TrainingState | null;
    if (!state) throw new ConfigError(`${c.resume} holds no training state (was it written by cnn train?)`);
    // A resumed run keeps its options; only --epochs (to extend it) and threads may change.
    c = resolveConfig({ ...state.config, epochs: partial.epochs ?? state.config.epochs, threads: partial.threads, resume: c.resume, out: dirname(c.resume) });
    if (state.epoch >= c.epochs && !state.interrupted) {
      throw new ConfigError(`${c.resume} already finished epoch ${state.epoch} of ${c.epochs}; pass --epochs with a larger number to extend it`);
    }
  }
  try {
    getModel(c.model);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  getDataset(c.dataset);
  // Rank 0 alone claims and writes the run folder.
  const run = leader ? claimRunFolder({ out: c.out, model: c.model, dataset: c.dataset, resume: c.resume !== undefined, overwrite: options.overwrite }) : null;
  if (run) held.push(run);
  const out = run?.folder ?? c.out ?? "rank 0's run folder";
  const threads = c.threads ?? dp.defaultThreads();
  if (threads) setThreads(threads);
  manualSeed(c.seed);

  const { train: trainSet, val: valSet, valSource } = await loadSplits(c, options.onDownloadProgress);
  const numClasses = c.numClasses ?? trainSet.classes.length;
  const maxLabel = trainSet.labels.reduce((m, v) => Math.max(m, v), 0);
  if (maxLabel >= numClasses) throw new ConfigError(`--num-classes ${numClasses} is too small: ${c.dataset} has labels up to ${maxLabel}`);
  const trainTransform = transformFor(trainSet, c.augment, true, c.imageSize, c.extraAugment);
  const valTransform = transformFor(valSet, c.augment, false, c.imageSize);
  const trainLoader = new DataLoader(trainSet, { batchSize: c.batchSize, shuffle: true, seed: c.seed, transform: trainTransform, shard: dp.shard(true) });
  const valLoader = new DataLoader(valSet, { batchSize: Math.max(c.batchSize, 256), transform: valTransform, shard: dp.shard(false) });
  const inputShape = [trainLoader.plan.output.channels, trainLoader.plan.output.height, trainLoader.plan.output.width] as [number, number, number];

  const modelConfig: ModelConfig = { name: c.model, numClasses, inChannels: inputShape[0], ...(c.stem ? { stem: c.stem } : {}) };
  const model = buildModel(c.model, modelConfig);
  let summary;
  try {
    summary = summarize(model, inputShape);
  } catch (err) {
    throw new ConfigError(`${c.model} cannot take ${c.dataset}'s ${inputShape.join('x')} images: ${(err as Error).message}`);
  }
  // Refuse a step that cannot fit before its first batch is allocated.
  const optimizerSlots = c.optimizer === 'sgd' ? (c.momentum > 0 ? 1 : 0) : 2;
  checkStepMemory(estimateStepMemory(summary, c.batchSize, optimizerSlots), options.maxMemory ?? availableMemory(),
    `${c.model} on ${c.batchSize} images of ${inputShape.join('x')}`, options.maxMemory === undefined ? 'the memory available' : '--max-memory');
  if (c.freezeBackbone) {
    model.requiresGrad(false);
    headOf(model).requiresGrad(true);
  }
  const { mean, std } = datasetStats(trainSet);
  const facts: DatasetFacts = { name: c.dataset, classes: trainSet.classes.slice(0, numClasses), mean, std, inputShape };

  const optimizer = buildOptimizer(model.parameters().filter((p) => p.requiresGrad), c);
  let schedule = new Schedule(optimizer, c, trainLoader.length);
  let startEpoch = 1, bestAcc = -Infinity, bestEpoch = 0, sinceBest = 0;
  if (resumed && state) {
    model.loadStateDict(resumed.modelState);
    optimizer.loadStateDict({ json: state.optimizer as never, tensors: resumed.optimizerTensors });
    if (state.config.epochs === c.epochs && state.batchesPerEpoch === trainLoader.length) {
      schedule.loadStateDict(state.schedule);
    } else {
      // Extending a run re-plans the schedule for the new length and replays the finished epochs.
      for (const g of optimizer.paramGroups) g.lr = g.initialLr;
      schedule = new Schedule(optimizer, c, trainLoader.length);
      schedule.fastForward(state.epoch, trainLoader.length, readMetrics(out).map((r) => r.val_loss));
    }
    defaultGenerator.setState(state.rng);
    startEpoch = state.epoch + 1;
    ({ bestAcc, bestEpoch } = state);
    sinceBest = state.epochsWithoutImprovement;
    if (leader) truncateMetrics(out, state.epoch);
  }
  dp.attach(model, optimizer.paramGroups.flatMap((g) => g.params), c.syncBn);
  const { resume: _resume, ...argsToRecord } = c;
  if (leader) writeArgs(out, { ...argsToRecord, out, numClasses, inputShape, resumedFrom: c.resume ?? null, ...(dp.size > 1 ? { ranks: dp.size } : {}) });

  const lastPath = join(out, 'last.bin'), bestPath = join(out, 'best.bin');
  // Every checkpoint this run writes is checked finite first, so the newest one is a good one.
  let lastFinite: string | null = resumed && nonFiniteTensors(resumed.modelState).length === 0 ? c.resume! : null;
  const stopMessage = (what: string) =>
    `${what}: training stopped (${lastFinite ? `the last finite checkpoint is ${lastFinite}` : 'no checkpoint was written yet'}; try a lower --lr)`;
  const save = (path: string, epoch: number, interrupted = false) => {
    if (!leader) return;
    const opt = optimizer.stateDict();
    const training: TrainingState = {
      epoch, bestAcc, bestEpoch, epochsWithoutImprovement: sinceBest, config: c, optimizer: opt.json,
      schedule: schedule.stateDict(), rng: defaultGenerator.getState(), batchesPerEpoch: trainLoader.length, ...(interrupted ? { interrupted } : {}),
    };
    saveCheckpoint(path, model, modelConfig, facts, training as unknown as Record<string, unknown>, opt.tensors);
    lastFinite = path;
  };

  reporter.start({
    model: c.model, dataset: c.dataset, trainCount: trainSet.count, valCount: valSet.count, valSource,
    epochs: c.epochs, startEpoch, batches: trainLoader.length, out, params: model.parameters().reduce((s, p) => s + p.size, 0), threads: getThreads(),
    ...(dp.size > 1 ? { ranks: dp.size, batchSize: c.batchSize } : {}),
  });

  let stopped: TrainResult['stopped'] = 'completed';
  let lastEpoch = startEpoch - 1;
  for (let epoch = startEpoch; epoch <= c.epochs; epoch++) {
    trainLoader.setEpoch(epoch);
    setTrainMode(model, c.freezeBackbone);
    const running = new RunningMetrics();
    const lr = schedule.lr;
    const t0 = performance.now();
    let batch = 0;
    for await (const { x, y } of trainLoader) {
      const logits = model.call(x);
      const loss = crossEntropy(logits, y, { labelSmoothing: c.labelSmoothing });
      const lossValue = loss.item();
      // Every rank learns of a non-finite loss or a stop request on any rank at the same step.
      const agreed = dp.agree(!Number.isFinite(lossValue), dp.size > 1 && (options.shouldStop?.() ?? false));
      if (agreed.nonFinite) {
        const what = dp.size === 1 ? `loss became ${lossValue}` : `loss became non-finite on ${agreed.nonFinite} of ${dp.size} ranks`;
        throw new NonFiniteLossError(stopMessage(`${what} at epoch ${epoch}, batch ${batch + 1}`));
      }
      optimizer.zeroGrad();
      loss.backward();
      dp.averageGradients();
      optimizer.step();
      schedule.afterBatch();
      running.add(lossValue, y.length, accuracyTopK(logits, y, 1));
      batch++;
      const seconds = (performance.now() - t0) / 1000;
      reporter.batch({
        epoch, batch, batches: trainLoader.length, loss: running.loss, accuracy: running.accuracy,
        imagesPerSec: (running.count * dp.size) / seconds, lr: schedule.lr, etaSeconds: (seconds / batch) * (trainLoader.length - batch),
      });
      if (dp.size > 1 ? agreed.stop : options.shouldStop?.()) {
        save(lastPath, epoch - 1, true);
        reporter.checkpoint(lastPath, 'last');
        reporter.note(`interrupted at epoch ${epoch}, batch ${batch}: saved ${lastPath} (resume with --resume ${lastPath}; the interrupted epoch restarts)`);
        reporter.done({ bestAcc: Math.max(bestAcc, 0), bestEpoch, out, stopped: 'interrupted' });
        return { out, bestAcc, bestEpoch, lastEpoch, stopped: 'interrupted' };
      }
    }
    // A finite loss can come with infinite weights (a huge step after it): never evaluate or save those.
    const bad = nonFiniteTensors([...model.stateDict(), ...optimizer.stateDict().tensors]);
    if (bad.length > 0) throw new NonFiniteLossError(stopMessage(`weights became NaN or Inf at epoch ${epoch} (${describeTensors(bad)})`));
    const trainSeconds = (performance.now() - t0) / 1000;
    dp.reduceMetrics(running);
    const val = await evaluate(model, valLoader, facts.classes, dp);
    const seconds = (performance.now() - t0) / 1000;
    schedule.afterEpoch(val.loss);
    const best = val.accuracy > bestAcc;
    if (best) {
      bestAcc = val.accuracy;
      bestEpoch = epoch;
      sinceBest = 0;
    } else {
      sinceBest++;
    }
    lastEpoch = epoch;
    // The row goes first: a crash between the two leaves a row that resuming from the previous
    // last.bin truncates, never a checkpoint whose epoch has no row.
    const imagesPerSec = running.count / trainSeconds;
    if (leader) appendMetrics(out, {
      epoch, train_loss: running.loss, train_acc: running.accuracy, val_loss: val.loss, val_acc: val.accuracy,
      val_top5: val.top5, lr, seconds, images_per_sec: imagesPerSec,
    });
    save(lastPath, epoch);
    reporter.checkpoint(lastPath, 'last');
    if (best) {
      save(bestPath, epoch);
      reporter.checkpoint(bestPath, 'best');
    }
    if (leader) await renderCurves(readMetrics(out), join(out, 'curves.png'));
    reporter.epoch({
      epoch, epochs: c.epochs, trainLoss: running.loss, trainAcc: running.accuracy, valLoss: val.loss, valAcc: val.accuracy,
      valTop5: val.top5, lr, seconds, imagesPerSec, best,
    });
    if (c.patience > 0 && sinceBest >= c.patience && epoch < c.epochs) {
      reporter.note(`early stop: validation accuracy has not improved for ${c.patience} epochs (best ${(100 * bestAcc).toFixed(2)}% at epoch ${bestEpoch})`);
      stopped = 'early-stopped';
      break;
    }
  }
  reporter.done({ bestAcc, bestEpoch, out, stopped });
  return { out, bestAcc, bestEpoch, lastEpoch, stopped };
}
