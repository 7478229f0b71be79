// One pass over a loader in eval mode without gradients: loss, top-1, top-5 and a confusion matrix.
import { noGrad } from '../tensor/tensor.js';
import { crossEntropy, accuracyTopK } from '../tensor/loss.js';
import type { Module } from '../nn/module.js';
import type { DataLoader } from '../data/loader.js';
import { RunningMetrics, ConfusionMatrix, predictions } from './metrics.js';
import type { DataParallel } from './distributed.js';
import type { Run } from './run.js';

export interface Evaluation {
  loss: number;
  accuracy: number;
  top5: number;
  count: number;
  confusion: ConfusionMatrix;
}

/** A run's validation after an epoch, or any model on any loader; with dp, each rank evaluates its shard and the sums are all-reduced. */
export async function evaluate(run: Run): Promise<Evaluation>;
export async function evaluate(model: Module, loader: DataLoader, classes: string[], dp?: DataParallel): Promise<Evaluation>;
export async function evaluate(...args: [Run] | [Module, DataLoader, string[], DataParallel?]): Promise<Evaluation> {
  const [model, loader, classes, dp] = args.length === 1 ? [args[0].model, args[0].valLoader, args[0].facts.classes, args[0].dp] : args;
  const wasTraining = model.training;
  model.eval();
  const metrics = new RunningMetrics();
  const confusion = new ConfusionMatrix(classes);
  const k = Math.min(5, classes.length);
  try {
    for await (const { x, y } of loader) {
      noGrad(() => {
        const logits = model.call(x);
        const loss = crossEntropy(logits, y).item();
        metrics.add(loss, y.length, accuracyTopK(logits, y, 1), accuracyTopK(logits, y, k));
        confusion.add(y, predictions(logits));
      });
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
}

/** Evaluates a checkpoint on a split of its own dataset (or another with the same images); with dp, each rank its shard. */
export async function evaluateCheckpoint(path: string, o: { dataset?: string; split?: string; dataDir?: string; batchSize?: number; allowNonFinite?: boolean } = {}, dp?: DataParallel): Promise<CheckpointEvaluation> {
  const { modelFromCheckpoint, CheckpointError } = await import('./checkpoint.js');
  const { loadDataset } = await import('../data/registry.js');
  const { DataLoader } = await import('../data/loader.js');
  const { transformFor } = await import('./data.js');
  const { model, checkpoint } = modelFromCheckpoint(path, { allowNonFinite: o.allowNonFinite });
  const [channels, height] = checkpoint.dataset.inputShape;
  const name = o.dataset ?? checkpoint.dataset.name;
  const split = o.split ?? 'test';
  const ds = await loadDataset(name, split, { dataDir: o.dataDir, download: true, imageSize: height, channels: channels as 1 | 3 });
  if (ds.channels !== channels) {
    throw new CheckpointError(`${path} expects ${channels}-channel images but ${name} has ${ds.channels}`, path);
  }
  const loader = new DataLoader(ds, { batchSize: o.batchSize ?? 256, transform: transformFor(ds, 'none', false, height), shard: dp?.shard(false) });
  const classes = checkpoint.dataset.classes;
  const maxLabel = ds.labels.reduce((m, v) => Math.max(m, v), 0);
  if (maxLabel >= classes.length) throw new CheckpointError(`${name} has labels up to ${maxLabel} but ${path} knows ${classes.length} classes`, path);
  const result = await evaluate(model, loader, classes, dp);
  return { ...result, dataset: name, split, classes };
}
