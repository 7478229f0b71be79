// Checkpoints are safetensors files: the model's state dict under torchvision's names, the
// optimizer's tensors under `optimizer.`, and JSON strings in __metadata__ for the model
// config, the dataset facts and the training state. Written atomically (temp file + rename).
import { saveSafetensors, loadSafetensors, type Entry } from '../io/safetensors.js';
import { CnnError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { firstNonFinite } from '../tensor/finite.js';
import type { Module } from '../nn/module.js';
import { buildModel } from '../models/registry.js';
import { withoutInit } from '../nn/init.js';
import type { ModelOptions } from '../models/options.js';

export const CHECKPOINT_FORMAT = 'cnn-checkpoint-1';
const OPTIMIZER_PREFIX = 'optimizer.';
/** A second set of weights beside the model's: the EMA's (`ema.`), or the raw model's in a best.bin chosen by --ema-eval ema (`raw.`). */
export const WEIGHT_SET_PREFIXES = ['ema.', 'raw.'] as const;
export type WeightSetPrefix = (typeof WEIGHT_SET_PREFIXES)[number];
export interface WeightSet {
  prefix: WeightSetPrefix;
  model: Module;
}

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
  /** Runs on image files: validation's Resize(evalResize) before CenterCrop(H×W) (cnn predict does the same). */
  evalResize?: number;
  /** Runs on image files: where the training images came from, and which images validated. */
  source?: string;
  valSource?: string;
}

export interface Checkpoint {
  model: ModelConfig;
  dataset: DatasetFacts;
  /** The training state as stored; the Checkpointer (checkpointer.ts) checks and types it. */
  training: unknown;
  modelState: Map<string, Tensor>;
  /** Optimizer tensors, keys without the `optimizer.` prefix. */
  optimizerTensors: Map<string, Tensor>;
  /** The second weight set, keys without its prefix (see WEIGHT_SET_PREFIXES), if any. */
  weightSet: { prefix: WeightSetPrefix; state: Map<string, Tensor> } | null;
}

/** A checkpoint file that is missing, corrupt or not what the command needs (exit 2). */
export class CheckpointError extends CnnError {
  constructor(message: string, file: string) {
    super(message, { file });
  }
}

/** A model or optimizer holding NaN or ±Inf was about to be saved: never written (exit code 1). */
export class NonFiniteModelError extends CnnError {
  constructor(message: string) {
    super(message, { exitCode: 1 });
  }
}

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
  training: object | null = null, optimizerTensors: ReadonlyMap<string, Tensor> = new Map(), weightSet: WeightSet | null = null): void {
  const entries: Record<string, Entry> = {};
  for (const [m, prefix] of [[model, ''], ...(weightSet ? [[weightSet.model, weightSet.prefix]] as const : [])] as const) {
    const int64 = m.int64Keys();
    for (const [k, t] of m.stateDict()) entries[prefix + k] = int64.has(k) ? { tensor: t, dtype: 'I64' } : t;
  }
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

function parseJson<T = unknown>(path: string, key: string, raw: string | undefined): T {
  if (raw === undefined) throw new CheckpointError(`${path} is not a cnn checkpoint (no '${key}' in its metadata)`, path);
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new CheckpointError(`${path} has corrupt '${key}' metadata`, path);
  }
}

const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isNumbers = (v: unknown, length: number): v is number[] => Array.isArray(v) && v.length === length && v.every((x) => Number.isFinite(x));

/** The model metadata, checked field by field so a bad file is one line naming the field. */
function checkModelConfig(path: string, m: unknown): ModelConfig {
  const bad = (field: string) => new CheckpointError(`${path} has bad 'model' metadata: ${field}`, path);
  if (typeof m !== 'object' || m === null) throw bad('not an object');
  const { name, numClasses, inChannels, stem } = m as Record<string, unknown>;
  if (typeof name !== 'string') throw bad('no model name');
  if (!isInt(numClasses, 1, 100000)) throw bad(`numClasses ${JSON.stringify(numClasses)} is not an integer between 1 and 100000`);
  if (!isInt(inChannels, 1, 4096)) throw bad(`inChannels ${JSON.stringify(inChannels)} is not an integer between 1 and 4096`);
  if (stem !== undefined && stem !== 'imagenet' && stem !== 'cifar') throw bad(`stem ${JSON.stringify(stem)} is not imagenet or cifar`);
  return m as ModelConfig;
}

function checkDatasetFacts(path: string, d: unknown): DatasetFacts {
  const bad = (field: string) => new CheckpointError(`${path} has bad 'dataset' metadata: ${field}`, path);
  if (typeof d !== 'object' || d === null) throw bad('not an object');
  const { name, classes, mean, std, inputShape } = d as Record<string, unknown>;
  if (typeof name !== 'string') throw bad('no dataset name');
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string')) throw bad('classes is not a list of names');
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every((v) => isInt(v, 1, 8192))) throw bad(`inputShape ${JSON.stringify(inputShape)} is not C×H×W`);
  if (!isNumbers(mean, inputShape[0]) || !isNumbers(std, inputShape[0])) throw bad(`mean and std need ${inputShape[0]} numbers each`);
  const { evalResize } = d as Record<string, unknown>;
  if (evalResize !== undefined && !isInt(evalResize, 1, 8192)) throw bad(`evalResize ${JSON.stringify(evalResize)} is not a size`);
  return d as DatasetFacts;
}

export function loadCheckpoint(path: string, { allowNonFinite = false }: LoadOptions = {}): Checkpoint {
  const { metadata, tensors } = loadSafetensors(path);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${path} is not a cnn checkpoint (format '${metadata.format ?? 'none'}', expected '${CHECKPOINT_FORMAT}')`, path);
  }
  if (!allowNonFinite) {
    const bad = nonFiniteTensors(tensors);
    if (bad.length > 0) throw new CheckpointError(`${path} holds NaN or Inf in ${describeTensors(bad)}; pass --allow-nonfinite to load it anyway`, path);
  }
  const modelState = new Map<string, Tensor>();
  const optimizerTensors = new Map<string, Tensor>();
  let weightSet: Checkpoint['weightSet'] = null;
  for (const [k, t] of tensors) {
    const prefix = WEIGHT_SET_PREFIXES.find((p) => k.startsWith(p));
    if (k.startsWith(OPTIMIZER_PREFIX)) optimizerTensors.set(k.slice(OPTIMIZER_PREFIX.length), t);
    else if (prefix) {
      if (weightSet && weightSet.prefix !== prefix) throw new CheckpointError(`${path} holds both ema. and raw. weights`, path);
      weightSet ??= { prefix, state: new Map() };
      weightSet.state.set(k.slice(prefix.length), t);
    } else modelState.set(k, t);
  }
  return {
    model: checkModelConfig(path, parseJson(path, 'model', metadata.model)),
    dataset: checkDatasetFacts(path, parseJson(path, 'dataset', metadata.dataset)),
    training: metadata.training === undefined ? null : parseJson(path, 'training', metadata.training),
    modelState,
    optimizerTensors,
    weightSet,
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
    throw new CheckpointError(`${path}: ${(err as Error).message}`, path);
  }
  model.eval();
  return { model, checkpoint };
}
