// train(config): prepareRun, then per epoch trainEpoch → evaluate → schedule → checkpoints
// (last.bin every epoch, best.bin on a new best validation accuracy) → metrics and curves →
// progress, until the last epoch, an early stop or Ctrl-C (which saves the epoch's start).
import { join } from 'node:path';
import { getThreads } from '../tensor/native.js';
import type { DownloadProgress } from '../data/download.js';
import { renderCurves } from '../viz/curves.js';
import type { TrainConfig } from './options.js';
import { prepareRun, type Run } from './run.js';
import { trainEpoch, type EpochTraining } from './train-epoch.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { badImagesNote } from './photo-data.js';
import { appendMetrics, readMetrics } from './run-folder.js';
import { QuietReporter, type TrainReporter } from './progress.js';
import { describeInit } from './init-weights.js';
import { profileModel } from '../nn/profile.js';
import type { Profiler } from '../tensor/profile.js';

export { NonFiniteLossError } from './train-epoch.js';

export interface TrainOptions {
  reporter: TrainReporter;
  /** Polled after every step: true ends the epoch, writes its start to last.bin and returns. */
  shouldStop?: () => boolean;
  onDownloadProgress?: (p: DownloadProgress) => void;
  /** --profile: time the training steps and report where the time went after the run. */
  profile?: boolean;
}

export interface TrainResult {
  out: string;
  bestAcc: number;
  bestEpoch: number;
  lastEpoch: number;
  stopped: 'completed' | 'early-stopped' | 'interrupted';
}

/** After an epoch's validation: schedule, best tracking, checkpoints, metrics, curves, report. */
async function finishEpoch(run: Run, epoch: number, t: EpochTraining, val: Evaluation & { seconds: number }, reporter: TrainReporter, emaVal: Evaluation | null): Promise<void> {
  const { progress, checkpointer } = run;
  run.schedule.afterEpoch(val.loss);
  // --ema-eval ema: the EMA's accuracy chooses best.bin (and drives --patience), and best.bin holds its weights.
  const chosen = emaVal && run.config.emaEval === 'ema' ? emaVal : val;
  const best = chosen.accuracy > progress.bestAcc;
  if (best) Object.assign(progress, { bestAcc: chosen.accuracy, bestEpoch: epoch, epochsWithoutImprovement: 0 });
  else progress.epochsWithoutImprovement++;
  progress.epoch = epoch;
  const seconds = t.seconds + val.seconds;
  const imagesPerSec = t.count / t.seconds;
  // The row goes first: a crash between the two leaves a row that resuming from the previous
  // last.bin truncates, never a checkpoint whose epoch has no row.
  if (run.dp.isLeader) appendMetrics(run.folder, {
    epoch, train_loss: t.loss, train_acc: t.accuracy, val_loss: val.loss, val_acc: val.accuracy, val_top5: val.top5, lr: t.lr, seconds, images_per_sec: imagesPerSec,
  });
  checkpointer.save(checkpointer.lastPath, progress);
  reporter.checkpoint(checkpointer.lastPath, 'last');
  if (best) {
    checkpointer.save(checkpointer.bestPath, progress, false, chosen === val ? 'raw' : 'ema');
    reporter.checkpoint(checkpointer.bestPath, 'best');
  }
  if (run.dp.isLeader) await renderCurves(readMetrics(run.folder), join(run.folder, 'curves.png'));
  reporter.epoch({
    epoch, epochs: run.config.epochs, trainLoss: t.loss, trainAcc: t.accuracy, valLoss: val.loss, valAcc: val.accuracy,
    // Top-5 says nothing with 5 classes or fewer (always 100%): the reporters leave it out.
    valTop5: run.facts.classes.length > 5 ? val.top5 : null, lr: t.lr, seconds, imagesPerSec, best,
  });
}

const count = (tensors: { size: number }[]) => tensors.reduce((s, p) => s + p.size, 0);

function reportStart(run: Run, reporter: TrainReporter): void {
  const c = run.config;
  reporter.start({
    model: c.model, dataset: c.dataset, trainCount: run.trainCount, valCount: run.valCount, valSource: run.valSource, epochs: c.epochs,
    startEpoch: run.progress.epoch + 1, batches: run.trainLoader.length, out: run.folder, params: count(run.model.parameters()), trainableParams: count(run.model.parameters().filter((p) => p.requiresGrad)), threads: getThreads(),
    ...(run.init ? { init: describeInit(run.init) } : {}),
    ...(run.dataNote ? { data: run.dataNote } : {}),
    ...(run.dp.size > 1 ? { ranks: run.dp.size, batchSize: c.batchSize } : {}),
  });
}

function interrupted(run: Run, epoch: number, reporter: TrainReporter): TrainResult {
  const { lastPath } = run.checkpointer;
  const p = run.checkpointer.saveInterrupted();
  reporter.checkpoint(lastPath, 'last');
  reporter.note(`interrupted in epoch ${epoch}: saved ${lastPath} as of the epoch's start (resume with --resume ${lastPath}; epoch ${epoch} restarts and repeats exactly)`);
  reporter.done({ bestAcc: p.bestAcc, bestEpoch: p.bestEpoch, out: run.folder, stopped: 'interrupted' });
  return { out: run.folder, bestAcc: p.bestAcc, bestEpoch: p.bestEpoch, lastEpoch: p.epoch, stopped: 'interrupted' };
}

/** Trains in a locked run folder; the lock is released however the run ends. */
export async function train(given: Partial<TrainConfig>, options: TrainOptions): Promise<TrainResult> {
  const run = await prepareRun(given, options.onDownloadProgress);
  try {
    return await trainRun(run, options);
  } finally {
    run.release();
  }
}

async function trainRun(run: Run, options: TrainOptions): Promise<TrainResult> {
  // Rank 0's; the other ranks of a data-parallel run report nothing.
  const reporter = run.dp.isLeader ? options.reporter : new QuietReporter();
  const profiler = options.profile ? profileModel(run.model) : undefined;
  let finished = false;
  try {
    const result = await trainEpochs(run, options, reporter, profiler);
    finished = true;
    return result;
  } finally {
    // A failed run puts the bindings back but prints no profile.
    const report = await profiler?.stop();
    if (report && finished) reporter.profile(report);
  }
}

async function trainEpochs(run: Run, options: TrainOptions, reporter: TrainReporter, profiler: Profiler | undefined): Promise<TrainResult> {
  const c = run.config;
  reportStart(run, reporter);
  let stopped: TrainResult['stopped'] = 'completed';
  for (let epoch = run.progress.epoch + 1; epoch <= c.epochs; epoch++) {
    run.checkpointer.markEpochStart(run.progress);
    const t = await trainEpoch(run, epoch, reporter, options.shouldStop, profiler);
    if (t.interrupted) return interrupted(run, epoch, reporter);
    run.checkpointer.assertFinite(epoch);
    const v0 = performance.now();
    const val = await evaluate(run);
    const emaVal = run.ema ? await evaluate(run.ema.module, run.valLoader, run.facts.classes, run.dp) : null;
    if (emaVal) reporter.note(`epoch ${epoch} EMA: val loss ${emaVal.loss.toFixed(4)}, val acc ${(100 * emaVal.accuracy).toFixed(2)}% (model: ${(100 * val.accuracy).toFixed(2)}%)`);
    const bad = badImagesNote(epoch, [run.trainLoader, run.valLoader]);
    if (bad) reporter.note(bad);
    await finishEpoch(run, epoch, t, { ...val, seconds: (performance.now() - v0) / 1000 }, reporter, emaVal);
    const p = run.progress;
    if (c.patience > 0 && p.epochsWithoutImprovement >= c.patience && epoch < c.epochs) {
      reporter.note(`early stop: validation accuracy has not improved for ${c.patience} epochs (best ${(100 * p.bestAcc).toFixed(2)}% at epoch ${p.bestEpoch})`);
      stopped = 'early-stopped';
      break;
    }
  }
  const { bestAcc, bestEpoch, epoch } = run.progress;
  reporter.done({ bestAcc, bestEpoch, out: run.folder, stopped });
  return { out: run.folder, bestAcc, bestEpoch, lastEpoch: epoch, stopped };
}
