// lrFind(config): fastai's learning-rate range test. The run is prepared as `cnn train` prepares
// it (the same rows, prepareRun without a run folder), then trained for up to `steps` batches at
// an exponentially rising lr until the smoothed loss diverges; nothing is saved.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkRow, flagName } from '../option-row.js';
import { ConfigError } from '../errors.js';
import { getThreads } from '../tensor/native.js';
import { TRAIN_OPTIONS, type TrainConfig } from './options.js';
import { NOT_FOR_LR_FIND, SWEEP_ROWS, type LrFindConfig, type SweepConfig } from './lr-find-options.js';
import { prepareRun, type Run } from './run.js';
import { forwardLoss, optimizerStep, setTrainMode, mixGenerator } from './train-epoch.js';
import { lrSweep, SmoothedLoss, DivergenceCheck, suggestLrs, type LrSuggestions } from './lr-finder.js';
import { describeInit } from './init-weights.js';
import { renderLrFind, type LrFindMark } from '../viz/lr-find-plot.js';
import { makeFolder } from '../io/folders.js';

export interface LrFindStep {
  step: number;
  steps: number;
  lr: number;
  loss: number;
  smoothed: number;
}

export interface LrFindResult {
  model: string;
  dataset: string;
  /** The sweep as asked for and as run. */
  steps: number;
  startLr: number;
  endLr: number;
  /** Each batch's lr, its loss and the smoothed loss, as fastai's Recorder keeps them. */
  lrs: number[];
  rawLosses: number[];
  losses: number[];
  /** completed: all steps; diverged: smoothed loss above 4× its minimum; non-finite: a NaN/Inf loss. */
  stopped: 'completed' | 'diverged' | 'non-finite';
  /** null when too few steps remain after fastai's trimming (the first tenth and the last five). */
  suggestions: LrSuggestions | null;
  out: string;
}

/** What a start line says: the run as prepared, before the first step. */
export interface LrFindStart {
  model: string;
  dataset: string;
  trainCount: number;
  threads: number;
  optimizer: string;
  batchSize: number;
  steps: number;
  startLr: number;
  endLr: number;
  /** What --init loaded and skipped, as a sentence. */
  init?: string;
}

export interface LrFindCallbacks {
  onStart?: (s: LrFindStart) => void;
  onStep?: (s: LrFindStep) => void;
}

/** The sweep's options with defaults, checked; the training options are left to prepareRun. */
function resolveSweep(given: LrFindConfig): SweepConfig & { train: Partial<TrainConfig> } {
  const sweep: Record<string, unknown> = {};
  for (const row of SWEEP_ROWS) {
    const value = given[row.key] ?? ('default' in row ? row.default : undefined);
    if (value !== undefined) checkRow(row, value);
    sweep[row.key] = value;
  }
  const s = sweep as SweepConfig;
  if (!(s.endLr > s.startLr)) throw new ConfigError(`Expected --end-lr above --start-lr (${s.startLr}) but received ${s.endLr}`, '--end-lr');
  const train: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined || SWEEP_ROWS.some((r) => r.key === key)) continue;
    const row = TRAIN_OPTIONS.find((r) => r.key === key);
    if (row && (row.group === 'scheduler' || NOT_FOR_LR_FIND.has(key))) throw new ConfigError(`${flagName(row)} is an option of cnn train; lr-find does not take it`, flagName(row));
    train[key] = value;
  }
  return { ...s, train: train as Partial<TrainConfig> };
}

/** Every batch of every epoch, epoch after epoch, until the caller stops asking. */
async function* batches(run: Run) {
  for (let epoch = 1; ; epoch++) {
    run.trainLoader.setEpoch(epoch);
    const mixGen = mixGenerator(run.config.seed, epoch);
    for await (const batch of run.trainLoader) yield { ...batch, mixGen };
  }
}

/** fastai's dots (where each suggestion was read) and our dashed lines at the suggested lrs. */
function marksFor(s: LrSuggestions): LrFindMark[] {
  return [
    { label: `steepest descent: ${s.steep.lr.toExponential(2)}`, lr: s.steep.lr, at: [s.steep.lr, s.steep.loss] },
    { label: `minimum ${s.minimum.minimumAt.toExponential(2)} / 10: ${s.minimum.lr.toExponential(2)}`, lr: s.minimum.lr, at: [s.minimum.minimumAt, s.minimum.loss] },
  ];
}


export async function lrFind(given: LrFindConfig, { onStart, onStep }: LrFindCallbacks = {}): Promise<LrFindResult> {
  const { steps, startLr, endLr, out, train } = resolveSweep(given);
  const run = await prepareRun({ ...train, epochs: 1 }, undefined, { runFolder: false });
  const c = run.config;
  const png = out ?? `${c.model}-${c.dataset}-lr-find.png`;
  // Checked before the sweep, so a bad --out does not cost one.
  if (existsSync(png) && statSync(png).isDirectory()) throw new ConfigError(`--out ${png} is a folder; give the PNG's file name`, '--out');
  makeFolder(dirname(png));
  onStart?.({
    model: c.model, dataset: c.dataset, trainCount: run.trainCount, threads: getThreads(), optimizer: c.optimizer, batchSize: c.batchSize, steps, startLr, endLr,
    ...(run.init ? { init: describeInit(run.init) } : {}),
  });
  const sweep = lrSweep(startLr, endLr, steps);
  const smoother = new SmoothedLoss();
  const divergence = new DivergenceCheck();
  const lrs: number[] = [], rawLosses: number[] = [], losses: number[] = [];
  let stopped: LrFindResult['stopped'] = 'completed';
  setTrainMode(run.model, c.freezeBackbone);
  for await (const { x, y, mixGen } of batches(run)) {
    const lr = sweep[lrs.length];
    for (const g of run.optimizer.paramGroups) g.lr = lr;
    const { loss, lossValue } = forwardLoss(run, x, y, mixGen);
    // fastai records a NaN and carries on to the last step; nothing useful follows it, so stop there.
    if (!Number.isFinite(lossValue)) {
      stopped = 'non-finite';
      break;
    }
    run.optimizer.zeroGrad();
    loss.backward();
    run.dp.averageGradients();
    optimizerStep(run);
    const smoothed = smoother.add(lossValue);
    lrs.push(lr);
    rawLosses.push(lossValue);
    losses.push(smoothed);
    onStep?.({ step: lrs.length, steps, lr, loss: lossValue, smoothed });
    if (divergence.diverged(smoothed)) {
      stopped = lrs.length < steps ? 'diverged' : 'completed';
      break;
    }
    if (lrs.length >= steps) break;
  }
  const suggestions = suggestLrs(lrs, losses, steps);
  await renderLrFind(png, lrs, losses, suggestions ? marksFor(suggestions) : [], `lr-find: ${c.model} on ${c.dataset}, ${c.optimizer}, batch ${c.batchSize}`);
  return {
    model: c.model, dataset: c.dataset, steps, startLr, endLr, lrs, rawLosses, losses, stopped, suggestions, out: png,
  };
}
