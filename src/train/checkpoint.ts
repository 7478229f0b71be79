// Checkpoints are safetensors files: the model's state dict under torchvision's names, the
// optimizer's tensors under `optimizer.`, and JSON strings in __metadata__ for the model
// config, the dataset facts and the training state. Written atomically (temp file + rename).
import { saveSafetensors, loadSafetensors, SafetensorsError, type Entry } from '../io/safetensors.js';
import { Tensor } from '../tensor/tensor.js';
import { firstNonFinite } from '../tensor/finite.js';
import type { Module } from '../nn/module.js';
import { buildModel } from '../models/registry.js';
import { withoutInit } from '../nn/init.js';
import type { ModelOptions } from '../models/options.js';

export const CHECKPOINT_FORMAT = 'cnn-checkpoint-1';
const OPTIMIZER_PREFIX = 'optimizer.';

export interface ModelConfig extends ModelOptions {
  name: string;
  numClasses: number;
  inChannels: number;
}

/** What inference needs to preprocess an image as training did. */
export interface DatasetFacts {
  name: string;
  classes: string[];
  mean: number[];
  std: number[];
  /** C×H×W the model was trained on. */
  inputShape: [number, number, number];
}

/** JSON-safe training state; its exact fields belong to the trainer. */
export type TrainingState = Record<string, unknown>;

export interface Checkpoint {
  model: ModelConfig;
  dataset: DatasetFacts;
  training: TrainingState | null;
  modelState: Map<string, Tensor>;
  /** Optimizer tensors, keys without the `optimizer.` prefix. */
  optimizerTensors: Map<string, Tensor>;
}

export class CheckpointError extends Error {}

/** A model or optimizer holding NaN or ±Inf was about to be saved: never written (exit code 1). */
export class NonFiniteModelError extends Error {}

export interface LoadOptions {
  /** Load tensors holding NaN or ±Inf (--allow-nonfinite) instead of refusing them. */
  allowNonFinite?: boolean;
}

/** Names of the tensors holding a NaN or ±Inf (one native pass when all are finite). */
export function nonFiniteTensors(tensors: Iterable<[string, Tensor]>): string[] {
  const entries = [...tensors];
  const bad: string[] = [];
  for (let from = 0; from < entries.length;) {
    const i = firstNonFinite(entries.slice(from).map(([, t]) => t));
    if (i < 0) break;
    bad.push(entries[from + i]![0]);
    from += i + 1;
  }
  return bad;
}

/** "conv1.weight" or "conv1.weight and 3 more tensors". */
export function describeTensors(names: readonly string[]): string {
  return names.length === 1 ? names[0]! : `${names[0]} and ${names.length - 1} more tensors`;
}

export function saveCheckpoint(path: string, model: Module, config: ModelConfig, dataset: DatasetFacts,
  training: TrainingState | null = null, optimizerTensors: ReadonlyMap<string, Tensor> = new Map()): void {
  const entries: Record<string, Entry> = {};
  const int64 = model.int64Keys();
  for (const [k, t] of model.stateDict()) entries[k] = int64.has(k) ? { tensor: t, dtype: 'I64' } : t;
  for (const [k, t] of optimizerTensors) entries[OPTIMIZER_PREFIX + k] = t;
  const bad = nonFiniteTensors(Object.entries(entries).map(([k, e]) => [k, e instanceof Tensor ? e : e.tensor]));
  if (bad.length > 0) throw new NonFiniteModelError(`not writing ${path}: ${describeTensors(bad)} hold NaN or Inf`);
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    model: JSON.stringify(config),
    dataset: JSON.stringify(dataset),
  };
  if (training) metadata.training = JSON.stringify(training);
  saveSafetensors(path, entries, metadata);
}

function parseJson<T>(path: string, key: string, raw: string | undefined): T {
  if (raw === undefined) throw new CheckpointError(`${path} is not a cnn checkpoint (no '${key}' in its metadata)`);
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new CheckpointError(`${path} has corrupt '${key}' metadata`);
  }
}

export function loadCheckpoint(path: string, { allowNonFinite = false }: LoadOptions = {}): Checkpoint {
  let file;
  try {
    file = loadSafetensors(path);
  } catch (err) {
    if (err instanceof SafetensorsError) throw new CheckpointError(err.message);
    throw err;
  }
  const { metadata, tensors } = file;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${path} is not a cnn checkpoint (format '${metadata.format ?? 'none'}', expected '${CHECKPOINT_FORMAT}')`);
  }
  if (!allowNonFinite) {
    const bad = nonFiniteTensors(tensors);
    if (bad.length > 0) throw new CheckpointError(`${path} holds NaN or Inf in ${describeTensors(bad)}; pass --allow-nonfinite to load it anyway`);
  }
  const modelState = new Map<string, Tensor>();
  const optimizerTensors = new Map<string, Tensor>();
  for (const [k, t] of tensors) {
    if (k.startsWith(OPTIMIZER_PREFIX)) optimizerTensors.set(k.slice(OPTIMIZER_PREFIX.length), t);
    else modelState.set(k, t);
  }
  return {
    model: parseJson<ModelConfig>(path, 'model', metadata.model),
    dataset: parseJson<DatasetFacts>(path, 'dataset', metadata.dataset),
    training: metadata.training === undefined ? null : parseJson<TrainingState>(path, 'training', metadata.training),
    modelState,
    optimizerTensors,
  };
}

/** Rebuilds the checkpoint's model with its weights, in eval mode. */
export function modelFromCheckpoint(path: string, loadOptions: LoadOptions = {}): { model: Module; checkpoint: Checkpoint } {
  const checkpoint = loadCheckpoint(path, loadOptions);
  const { name, ...options } = checkpoint.model;
  let model: Module;
  try {
    model = withoutInit(() => buildModel(name, options));
    model.loadStateDict(checkpoint.modelState);
  } catch (err) {
    throw new CheckpointError(`${path}: ${(err as Error).message}`);
  }
  model.eval();
  return { model, checkpoint };
}
