// One pass over a loader in eval mode without gradients: loss, top-1, top-5 and a confusion matrix.
import { noGrad } from '../tensor/tensor.js';
import { crossEntropy, accuracyTopK } from '../tensor/loss.js';
import { StepBuffers } from '../tensor/storage.js';
import type { Module } from '../nn/module.js';
import type { EpochLoader } from '../data/loader.js';
import { RunningMetrics, ConfusionMatrix, predictions } from './metrics.js';
import type { DataParallel } from './distributed.js';
import type { Run } from './run.js';
import type { EvalChoice } from './eval-data.js';

export interface Evaluation {
  loss: number;
  accuracy: number;
  top5: number;
  count: number;
  confusion: ConfusionMatrix;
}

/** A run's validation after an epoch, or any model on any loader; with dp, each rank evaluates its shard and the sums are all-reduced. */
export async function evaluate(run: Run): Promise<Evaluation>;
export async function evaluate(model: Module, loader: EpochLoader, classes: string[], dp?: DataParallel): Promise<Evaluation>;
export async function evaluate(...args: [Run] | [Module, EpochLoader, string[], DataParallel?]): Promise<Evaluation> {
  const [model, loader, classes, dp] = args.length === 1 ? [args[0].model, args[0].valLoader, args[0].facts.classes, args[0].dp] : args;
  const wasTraining = model.training;
  model.eval();
  const metrics = new RunningMetrics();
  const confusion = new ConfusionMatrix(classes);
  const k = Math.min(5, classes.length);
  // Each batch's forward pass takes the storage the one before gave back; only numbers leave it.
  const buffers = new StepBuffers();
  try {
    for await (const { x, y } of loader) {
      buffers.step(() => noGrad(() => {
        const logits = model.call(x);
        const loss = crossEntropy(logits, y).item();
        metrics.add(loss, y.length, accuracyTopK(logits, y, 1), accuracyTopK(logits, y, k));
        confusion.add(y, predictions(logits));
      }));
    }
  } finally {
    model.train(wasTraining);
  }
  dp?.reduceMetrics(metrics, confusion);
  return { loss: metrics.loss, accuracy: metrics.accuracy, top5: metrics.top5Accuracy, count: metrics.count, confusion };
}

export interface CheckpointEvaluation extends Evaluation {
  dataset: string;
  split: string;
  classes: string[];
  /** Which images, in words ("20% of folder /data/pets, seed 0"), and whether they are the run's validation set. */
  source: string;
  runValidation: boolean;
  /** Image files: the evaluation transform. */
  transform?: string;
}

/**
 * Evaluates a checkpoint: by default on the validation set of the run that wrote it, exactly as
 * that run validated (see eval-data.ts); `o` chooses another dataset, folder, split or fraction.
 * With dp, each rank evaluates its shard.
 */
export async function evaluateCheckpoint(path: string, o: EvalChoice & { allowNonFinite?: boolean } = {}, dp?: DataParallel): Promise<CheckpointEvaluation> {
  const { modelFromCheckpoint, CheckpointError } = await import('./checkpoint.js');
  const { evalData } = await import('./eval-data.js');
  const { model, checkpoint } = modelFromCheckpoint(path, { allowNonFinite: o.allowNonFinite });
  const data = await evalData(path, checkpoint, o, dp?.shard(false));
  const classes = checkpoint.dataset.classes;
  if (data.dataset === 'imagefolder' && data.classes.join('\n') !== classes.slice(0, data.classes.length).join('\n')) {
    throw new CheckpointError(`the images' classes (${data.classes.join(', ')}) are not those ${path} was trained on (${classes.join(', ')})`, path);
  }
  const maxClasses = data.classes.length;
  if (maxClasses > classes.length) throw new CheckpointError(`${data.dataset} has ${maxClasses} classes but ${path} knows ${classes.length}`, path);
  const result = await evaluate(model, data.loader, classes, dp);
  return { ...result, dataset: data.dataset, split: data.split, classes, source: data.source, runValidation: data.runValidation, transform: data.transform };
}
