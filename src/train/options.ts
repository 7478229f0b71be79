// The run spec: every option of `cnn train` is one row of this table. The commander options and
// their --help, the TrainConfig type, the defaults and the checks (config.ts) all come from it;
// optimizers and schedulers bring their own rows (optim/optimizers.ts, optim/schedulers.ts).
import { numberRow, listRow, choiceRow, switchRow, textRow, type AnyOptionRow, type ConfigFrom, type OptionRow } from '../option-row.js';
import { OPTIMIZERS, OPTIMIZER_NAMES, OPTIMIZER_ROWS } from '../optim/optimizers.js';
import { SCHEDULERS, SCHEDULER_NAMES, SCHEDULER_ROWS } from '../optim/schedulers.js';
import { MODELS } from '../models/registry.js';
import { datasetNames } from '../data/registry.js';
import { AUGMENT_LEVELS } from '../data/presets.js';
import { ConfigError } from '../errors.js';
import { parseMemorySize } from './memory-estimate.js';
import { parseClassWeights, type ClassWeightsSpec } from './class-weights.js';
import { parseNormalize, normalizeProblem, type NormalizeSpec } from '../data/normalization.js';
import { autoAugmentProblem } from '../data/auto-augment.js';

const maxMemory = {
  key: 'maxMemory', flag: '--max-memory <size>', group: 'run', defaultText: 'the memory available',
  help: 'memory a training step may use, e.g. 8G (checked against an estimate before the first step)',
  parse: (raw: string): number => {
    const bytes = parseMemorySize(raw);
    if (!(bytes > 0)) throw new ConfigError(`Expected a size such as 8G or 512M for --max-memory but received '${raw}'`, '--max-memory');
    return bytes;
  },
  check: (v: number) => (v > 0 ? undefined : 'a positive number of bytes'),
} as const;

const classWeights = {
  key: 'classWeights', flag: '--class-weights <auto|w1,w2,…>', group: 'optimizer', defaultText: 'off',
  help: "cross-entropy's per-class weights; auto: n_samples / (n_classes · class count), sklearn's balanced",
  parse: parseClassWeights,
  check: (v: ClassWeightsSpec) => (v === 'auto' || (Array.isArray(v) && v.every((w) => w >= 0 && Number.isFinite(w))) ? undefined : 'auto or non-negative weights'),
} as const;

const normalize = {
  key: 'normalize', flag: '--normalize <spec>', group: 'run', defaultText: "dataset (imagenet with --pretrained)",
  help: "Normalize's mean/std: dataset (its own statistics), imagenet (a pretrained backbone's), or m1,m2,m3:s1,s2,s3",
  parse: parseNormalize,
  check: (v: NormalizeSpec) => normalizeProblem(v),
} as const;

const autoAugment = {
  key: 'autoAugment', flag: '--auto-augment <policy>', group: 'augment', defaultText: 'off',
  help: "trivial (TrivialAugmentWide), imagenet|cifar10|svhn (AutoAugment's policies) or rand-m<M>[-n<N>][-mstd<S>] " +
    "(RandAugment in timm's grammar: M and S on timm's 0–10 scale, M = torchvision's bin 3·M of 31; n 2 by default)",
  parse: (raw: string): string => {
    const problem = autoAugmentProblem(raw);
    if (problem) throw new ConfigError(`--auto-augment: ${problem}`, '--auto-augment');
    return raw;
  },
  check: (v: string) => (autoAugmentProblem(v) === undefined ? undefined : 'trivial, imagenet, cifar10, svhn or rand-m<M>[-n<N>][-mstd<S>]'),
} as const;

const probability = (key: 'hflip' | 'vflip' | 'grayscale' | 'erasing', help: string) =>
  numberRow(key, `--${key} <p>`, { min: 0, max: 1, expected: 'a probability in [0, 1]', defaultText: 'off', help, group: 'augment' });

const RUN_ROWS = [
  choiceRow('model', '--model <name>', () => [...MODELS.keys()], { default: 'lenet5', help: 'model from `cnn models`', group: 'run' }),
  choiceRow('dataset', '--dataset <name>', datasetNames, { default: 'fashion-mnist-mini', help: 'dataset from `cnn datasets`', group: 'run' }),
  normalize,
  textRow('dataDir', '--data-dir <dir>', { defaultText: '$CNN_DATA, else ./data', help: 'where datasets live (for imagefolder: the image folder)', group: 'run' }),
  numberRow('epochs', '--epochs <n>', { integer: true, min: 1, max: 1e6, default: 10, help: 'epochs to train', group: 'run' }),
  numberRow('batchSize', '--batch-size <n>', { integer: true, min: 1, max: 2 ** 31 - 1, default: 32, help: 'images per step', group: 'run' }),
  numberRow('numClasses', '--num-classes <n>', { integer: true, min: 1, max: 100000, defaultText: "the dataset's classes", help: 'classifier outputs', group: 'run' }),
  numberRow('imageSize', '--image-size <n>', { integer: true, min: 1, max: 1024, defaultText: "the dataset's size", help: 'resize images to n×n', group: 'run' }),
  choiceRow('stem', '--stem <kind>', () => ['imagenet', 'cifar'] as const, { defaultText: 'imagenet', help: 'ResNet stem: imagenet, or cifar (3×3 stride-1, no max-pool)', group: 'run' }),
  numberRow('dropout', '--dropout <p>', { min: 0, max: 1, expected: 'a probability in [0, 1]', defaultText: "the model's", help: 'dropout before the classifier (models that have one)', group: 'run' }),
  numberRow('dropPath', '--drop-path <p>', { min: 0, max: 1, expected: 'a probability in [0, 1]', defaultText: "the model's", help: "stochastic depth: the last block's drop probability (models that have it)", group: 'run' }),
  textRow('init', '--init <file>', { defaultText: 'off', help: 'start a new run from these weights: a cnn checkpoint, a safetensors state dict or a PyTorch .pth/.pt (tensors of another shape are re-initialised)', group: 'run' }),
  switchRow('pretrained', '--pretrained', { help: "start a new run from torchvision's ImageNet weights for --model (fetched once into <data root>/weights/, then loaded as --init)", group: 'run' }),
  switchRow('initNonStrict', '--init-non-strict', { help: "with --init: load the keys that match instead of refusing a file whose keys do not all match the model's", group: 'run' }),
  switchRow('freezeBackbone', '--freeze-backbone', { help: 'train only the fc/classifier head', group: 'run' }),
  numberRow('unfreezeAt', '--unfreeze-at <epoch>', { integer: true, min: 2, max: 1e6, defaultText: 'never', help: 'with --freeze-backbone: from this epoch the backbone trains too (its BatchNorm back in train mode)', group: 'run' }),
  switchRow('syncBn', '--sync-bn', { help: 'under mpirun: BatchNorm statistics over the global batch (SyncBatchNorm)', group: 'run' }),
  numberRow('valSplit', '--val-split <x>', { min: 0, max: 1, open: 'max', default: 0, help: 'hold out this fraction of train for validation (0: validate on the test split)', group: 'run' }),
  numberRow('seed', '--seed <n>', { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER, default: 0, help: 'seed for initialization, shuffling, augmentation and dropout', group: 'run' }),
  numberRow('patience', '--patience <n>', { integer: true, min: 0, default: 0, help: 'stop after n epochs without a better validation accuracy (0: never)', group: 'run' }),
  textRow('out', '--out <dir>', { defaultText: 'runs/<model>-<dataset>-N', help: 'run folder', group: 'run' }),
  textRow('resume', '--resume <checkpoint>', { defaultText: 'off', help: 'continue a run from its last.bin (--epochs N extends it)', group: 'run' }),
  switchRow('overwrite', '--overwrite', { help: 'replace the run already in --out (without it, cnn refuses to touch it)', group: 'run' }),
  switchRow('allowNonFinite', '--allow-nonfinite', { help: 'let --resume load a checkpoint whose weights hold NaN or Inf', group: 'run' }),
  maxMemory,
] as const;

const OPTIMIZATION_ROWS = [
  choiceRow('optimizer', '--optimizer <name>', () => OPTIMIZER_NAMES, { default: 'adam', help: OPTIMIZER_NAMES.join(' | '), group: 'optimizer' }),
  numberRow('lr', '--lr <x>', {
    min: 0, open: 'min', help: 'learning rate', group: 'optimizer',
    defaultText: OPTIMIZER_NAMES.map((n) => `${OPTIMIZERS[n].defaultLr} for ${n}`).join(', '),
  }),
  ...Object.values(OPTIMIZER_ROWS),
  numberRow('backboneLr', '--backbone-lr <x>', { min: 0, defaultText: '--lr', help: 'learning rate of everything but the fc/classifier head (two param groups: the head at --lr)', group: 'optimizer' }),
  numberRow('gradClip', '--grad-clip <norm>', { min: 0, open: 'min', defaultText: 'off', help: "scale the gradients so their global L2 norm is at most this (clip_grad_norm_)", group: 'optimizer' }),
  numberRow('gradClipValue', '--grad-clip-value <v>', { min: 0, open: 'min', defaultText: 'off', help: 'clamp every gradient element to [-v, v] (clip_grad_value_)', group: 'optimizer' }),
  numberRow('accumSteps', '--accum-steps <k>', { integer: true, min: 1, max: 1e6, default: 1, help: 'accumulate the gradients of k batches into one optimizer step (as one k× larger batch, BatchNorm aside)', group: 'optimizer' }),
  numberRow('ema', '--ema <decay>', { min: 0, max: 1, expected: 'a decay in [0, 1]', defaultText: 'off', help: "keep an exponential moving average of the weights and buffers after each step (timm's ModelEmaV2), evaluated each epoch beside the model", group: 'optimizer' }),
  choiceRow('emaEval', '--ema-eval <weights>', () => ['raw', 'ema'] as const, { default: 'raw', help: 'which weights choose and fill best.bin with --ema: raw or ema', group: 'optimizer' }),
  classWeights,
  choiceRow('sampler', '--sampler <kind>', () => ['shuffle', 'balanced'] as const, { default: 'shuffle', help: 'shuffle: each image once an epoch; balanced: draw with replacement, each class equally often (WeightedRandomSampler)', group: 'optimizer' }),
  numberRow('labelSmoothing', '--label-smoothing <x>', { min: 0, max: 1, default: 0, help: 'cross-entropy label smoothing', group: 'optimizer' }),
] as const;

const SCHEDULE_ROWS = [
  choiceRow('scheduler', '--scheduler <name>', () => SCHEDULER_NAMES, { default: 'none', help: SCHEDULER_NAMES.join(' | '), group: 'scheduler' }),
  numberRow('warmupEpochs', '--warmup-epochs <n>', { integer: true, min: 0, default: 0, help: 'linear warm-up epochs before the schedule', group: 'scheduler' }),
  ...Object.values(SCHEDULER_ROWS),
] as const;

const AUGMENT_ROWS = [
  choiceRow('augment', '--augment <level>', () => AUGMENT_LEVELS, { default: 'none', help: "none | basic | strong (the dataset's preset)", group: 'augment' }),
  numberRow('randomCrop', '--random-crop <padding>', { integer: true, min: 0, max: 256, defaultText: 'off', help: 'add RandomCrop(image size, padding)', group: 'augment' }),
  numberRow('randomResizedCrop', '--random-resized-crop <min-scale>', { min: 0, max: 1, open: 'min', expected: 'a minimum scale in (0, 1]', defaultText: 'off', help: 'add RandomResizedCrop(image size, scale=(min, 1))', group: 'augment' }),
  probability('hflip', 'add RandomHorizontalFlip(p)'),
  probability('vflip', 'add RandomVerticalFlip(p)'),
  numberRow('rotation', '--rotation <degrees>', { min: 0, max: 360, defaultText: 'off', help: 'add RandomRotation(±degrees)', group: 'augment' }),
  listRow<'colorJitter', [number, number, number, number]>('colorJitter', '--color-jitter <b,c,s,h>', {
    length: 4, min: 0, ok: (v) => v[3] <= 0.5, expected: 'four numbers (non-negative; hue at most 0.5)', defaultText: 'off',
    help: 'add ColorJitter(brightness, contrast, saturation, hue)', group: 'augment',
  }),
  probability('grayscale', 'add RandomGrayscale(p)'),
  probability('erasing', 'add RandomErasing(p) after Normalize'),
  autoAugment,
  numberRow('mixup', '--mixup <alpha>', { min: 0, max: 1000, defaultText: 'off', help: "mixup with λ ~ Beta(α, α), timm's Mixup per batch with soft targets", group: 'augment' }),
  numberRow('cutmix', '--cutmix <alpha>', { min: 0, max: 1000, defaultText: 'off', help: "cutmix with λ ~ Beta(α, α), timm's Mixup per batch with soft targets", group: 'augment' }),
  numberRow('mixProb', '--mix-prob <p>', { min: 0, max: 1, expected: 'a probability in [0, 1]', default: 1, help: 'probability that a batch is mixed (with --mixup/--cutmix)', group: 'augment' }),
  numberRow('switchProb', '--switch-prob <p>', { min: 0, max: 1, expected: 'a probability in [0, 1]', default: 0.5, help: 'probability of cutmix rather than mixup when both are on', group: 'augment' }),
] as const;

/** Runs on image files (--dataset imagefolder or a labels file), streamed from disk. */
/** A switch of the decoded-image cache, which has no default (absent: decided from the data). */
function cacheDecodedRow(flag: string, help: string): OptionRow<'cacheDecoded', boolean> {
  const { default: _, ...row } = switchRow('cacheDecoded', flag, { help, group: 'images' });
  return { ...row, defaultText: 'automatic' };
}

const IMAGE_FILE_ROWS = [
  textRow('labels', '--labels <file>', { defaultText: 'off', help: 'a path,label CSV/TSV of your images (paths relative to it; labels as names or indices)', group: 'images' }),
  textRow('trainCsv', '--train-csv <file>', { defaultText: 'off', help: 'the training images as a path,label CSV/TSV', group: 'images' }),
  textRow('valCsv', '--val-csv <file>', { defaultText: 'off', help: 'the validation images as a path,label CSV/TSV (with --train-csv)', group: 'images' }),
  listRow<'rrcRatio', [number, number]>('rrcRatio', '--rrc-ratio <min,max>', {
    length: 2, min: 0, ok: (v) => v[0] > 0 && v[0] <= v[1], expected: 'two aspect ratios 0 < min <= max', defaultText: '0.75,1.333',
    help: "RandomResizedCrop's aspect-ratio range (width / height) for --augment basic/strong", group: 'images',
  }),
  numberRow('evalResize', '--eval-resize <n>', { integer: true, min: 1, max: 8192, defaultText: 'image size / 0.875: 256 for 224', help: 'validation: Resize(n) of the shorter side, then CenterCrop(image size)', group: 'images' }),
  switchRow('skipBadImages', '--skip-bad-images', { help: 'skip unreadable images (counted at the end of each epoch) instead of stopping', group: 'images' }),
  // One key, three states: absent (automatic), --cache-decoded (true), --no-cache-decoded (false).
  cacheDecodedRow('--cache-decoded', 'keep decoded images in memory up to the budget (a quarter of --max-memory or of free memory, at most 4 GB) even when not all fit; without it or --no-cache-decoded they are kept only when all are estimated to fit and are not JPEGs that the native decoder reads faster'),
  cacheDecodedRow('--no-cache-decoded', 'never keep decoded images in memory: decode each image every epoch'),
] as const;

export const TRAIN_OPTIONS = [...RUN_ROWS, ...OPTIMIZATION_ROWS, ...SCHEDULE_ROWS, ...AUGMENT_ROWS, ...IMAGE_FILE_ROWS] as const;

/**
 * Every option of a training run. `lr` is always set once resolved (its default follows the
 * optimizer); `threads` comes from cli/threads.ts like every computing command's; `download`
 * is the library's choice (CLI runs download, programs default to not).
 */
export type TrainConfig = ConfigFrom<typeof TRAIN_OPTIONS> & { lr: number; threads?: number; download: boolean };

export type OptionKey = (typeof TRAIN_OPTIONS)[number]['key'];

/** The defaults of every row that has one. */
export const DEFAULT_CONFIG = Object.freeze(Object.fromEntries([
  ...TRAIN_OPTIONS.filter((r) => 'default' in r).map((r) => [r.key, (r as AnyOptionRow).default]),
  ['download', true],
])) as Omit<TrainConfig, 'lr'>;

/** The optimizers or schedulers that read a row ('sgd'), for --help. */
export function usedBy(row: AnyOptionRow): string[] {
  const entries = [...Object.entries(OPTIMIZERS), ...Object.entries(SCHEDULERS)] as [string, { options: readonly AnyOptionRow[] }][];
  return entries.filter(([, e]) => e.options.includes(row)).map(([name]) => name);
}

/** The rows an optimizer or scheduler reads, to refuse options given for another one. */
export function rowsOf(kind: 'optimizer' | 'scheduler', name: string): readonly AnyOptionRow[] {
  const map = (kind === 'optimizer' ? OPTIMIZERS : SCHEDULERS) as Record<string, { options: readonly AnyOptionRow[] }>;
  return map[name]?.options ?? [];
}

/** Rows that only some optimizer or scheduler reads. */
export const CHOICE_ROWS: ReadonlySet<AnyOptionRow> = new Set<AnyOptionRow>([...Object.values(OPTIMIZER_ROWS), ...Object.values(SCHEDULER_ROWS)]);
