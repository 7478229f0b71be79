// trainEpoch(run): one pass over the training data — forward, loss, backward, and every
// --accum-steps batches gradient clipping, optimizer step, per-step schedule — reporting progress
// and polling for a stop after each batch.
import { crossEntropy, accuracyTopK } from '../tensor/loss.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/norm.js';
import type { Module } from '../nn/module.js';
import { clipGradNorm, clipGradValue } from '../optim/clip-grad.js';
import { mulScalar } from '../tensor/ops.js';
import { CnnError } from '../errors.js';
import { GradientAccumulation } from './accumulation.js';
import { softTargetCrossEntropy } from './mixup.js';
import { Generator } from '../tensor/random.js';
import { stepBuffersFor } from '../tensor/storage.js';
import { RunningMetrics } from './metrics.js';
import type { TrainReporter } from './progress.js';
import type { Run } from './run.js';
import type { Profiler } from '../tensor/profile.js';
import type { Tensor } from '../tensor/tensor.js';

/** Stopped on a non-finite loss or non-finite weights; names the last checkpoint that is still finite. */
export class NonFiniteLossError extends CnnError {
  constructor(message: string) {
    super(message, { exitCode: 1 });
  }
}

export interface EpochTraining {
  loss: number;
  accuracy: number;
  count: number;
  /** The lr the epoch started with. */
  lr: number;
  seconds: number;
  /** True when shouldStop() ended the epoch early. */
  interrupted: boolean;
}

/** train() mode, except frozen BatchNorm layers, which keep their running statistics (eval). */
export function setTrainMode(model: Module, frozen: boolean): void {
  model.train();
  if (!frozen) return;
  for (const m of model.modules()) {
    if ((m instanceof BatchNorm2d || m instanceof BatchNorm1d) && m.parameters().every((p) => !p.requiresGrad)) m.eval();
  }
}

/** Mixup's draws for an epoch, seeded by it, so a restarted epoch repeats them. */
export function mixGenerator(seed: number, epoch: number): Generator {
  return new Generator((seed % 2 ** 31) * 65537 + epoch);
}

/** The batch's forward pass and loss (mixed with --mixup/--cutmix, weighted with --class-weights). */
export function forwardLoss(run: Run, x: Tensor, y: Int32Array, mixGen: Generator): { logits: Tensor; loss: Tensor; lossValue: number } {
  const c = run.config;
  const mixed = run.mixup?.apply(x, y, mixGen);
  const logits = run.model.call(mixed ? mixed.x : x);
  // Mixed batches train on soft targets (label smoothing inside them); accuracy is against the unmixed labels.
  const loss = mixed ? softTargetCrossEntropy(logits, mixed.target)
    : crossEntropy(logits, y, { labelSmoothing: c.labelSmoothing, ...(run.lossWeight ? { weight: run.lossWeight } : {}) });
  return { logits, loss, lossValue: loss.item() };
}

/** The update once the gradients are in: clipping, the optimizer step (timed under --profile), the EMA. */
export function optimizerStep(run: Run, profiler?: Profiler): void {
  const c = run.config;
  if (c.gradClipValue !== undefined) clipGradValue(run.trainable, c.gradClipValue);
  if (c.gradClip !== undefined) clipGradNorm(run.trainable, c.gradClip);
  if (profiler) profiler.within('optimizer', () => run.optimizer.step());
  else run.optimizer.step();
  run.ema?.update(run.model);
}

/** profiler (--profile): times each step, the wait for its batch, and the step's phases. */
export async function trainEpoch(run: Run, epoch: number, reporter: TrainReporter, shouldStop?: () => boolean, profiler?: Profiler): Promise<EpochTraining> {
  const { config: c, model, optimizer, trainLoader } = run;
  trainLoader.setEpoch(epoch);
  if (c.unfreezeAt !== undefined && epoch >= c.unfreezeAt) model.requiresGrad(true);
  setTrainMode(model, c.freezeBackbone);
  const running = new RunningMetrics();
  const lr = run.schedule.lr;
  const t0 = performance.now();
  const accumulation = new GradientAccumulation(trainLoader.length, c.accumSteps);
  const mixGen = mixGenerator(c.seed, epoch);
  let batch = 0;
  // Every step takes its activations and gradients from the buffers the steps before gave back, epoch after epoch.
  const buffers = stepBuffersFor(run);
  for await (const { x, y } of trainLoader) {
    profiler?.beginStep();
    buffers.begin();
    let stop: boolean, seconds: number;
    try {
      const { logits, loss, lossValue } = forwardLoss(run, x, y, mixGen);
      // Every rank learns of a non-finite loss or a stop request on any rank at the same step.
      const { dp } = run;
      const agreed = dp.agree(!Number.isFinite(lossValue), dp.size > 1 && (shouldStop?.() ?? false));
      if (agreed.nonFinite) {
        const what = dp.size === 1 ? `loss became ${lossValue}` : `loss became non-finite on ${agreed.nonFinite} of ${dp.size} ranks`;
        throw new NonFiniteLossError(run.checkpointer.stopMessage(`${what} at epoch ${epoch}, batch ${batch + 1}`));
      }
      profiler?.setPhase('backward');
      if (accumulation.startsGroup(batch)) optimizer.zeroGrad();
      (c.accumSteps === 1 ? loss : mulScalar(loss, accumulation.lossScale(batch))).backward();
      // Under mpirun every backward is all-reduced; the sum so far is the same on every rank, so the mean stays exact.
      dp.averageGradients();
      if (accumulation.endsGroup(batch)) {
        profiler?.setPhase('optimizer');
        optimizerStep(run, profiler);
        run.schedule.afterBatch();
      }
      running.add(lossValue, y.length, accuracyTopK(logits, y, 1));
      batch++;
      seconds = (performance.now() - t0) / 1000;
      reporter.batch({
        epoch, batch, batches: trainLoader.length, loss: running.loss, accuracy: running.accuracy,
        imagesPerSec: (running.count * dp.size) / seconds, lr: run.schedule.lr, etaSeconds: (seconds / batch) * (trainLoader.length - batch),
      });
      stop = dp.size > 1 ? agreed.stop : shouldStop?.() ?? false;
    } finally {
      buffers.end();
    }
    profiler?.endStep();
    if (stop) return { ...summary(running), lr, seconds, interrupted: true };
  }
  run.dp.reduceMetrics(running);
  return { ...summary(running), lr, seconds: (performance.now() - t0) / 1000, interrupted: false };
}

function summary(m: RunningMetrics): { loss: number; accuracy: number; count: number } {
  return { loss: m.loss, accuracy: m.accuracy, count: m.count };
}
