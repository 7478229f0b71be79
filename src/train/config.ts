// Every option of a training run, resolved and checked before any work starts.

export type OptimizerName = 'sgd' | 'adam' | 'adamw';
export type SchedulerName = 'none' | 'step' | 'multistep' | 'cosine' | 'cosine-restarts' | 'plateau' | 'onecycle';
import type { ExtraAugment } from './data.js';

export type AugmentName = 'none' | 'basic' | 'strong';

export interface TrainConfig {
  model: string;
  dataset: string;
  dataDir?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  scheduler: SchedulerName;
  /** step: epochs between decays; multistep: the epochs where the LR decays. */
  stepSize: number;
  milestones: number[];
  gamma: number;
  /** cosine: epochs of one half-cosine (default: epochs − warmup). */
  tMax?: number;
  minLr: number;
  /** cosine-restarts: first period and its growth. */
  t0: number;
  tMult: number;
  /** plateau (on validation loss). */
  plateauPatience: number;
  plateauFactor: number;
  plateauThreshold: number;
  plateauCooldown: number;
  /** onecycle (stepped per batch). */
  maxLr?: number;
  pctStart: number;
  divFactor: number;
  finalDivFactor: number;
  warmupEpochs: number;
  labelSmoothing: number;
  augment: AugmentName;
  /** Single augmentations on top of the preset. */
  extraAugment: ExtraAugment;
  threads?: number;
  seed: number;
  valSplit: number;
  numClasses?: number;
  imageSize?: number;
  stem?: 'imagenet' | 'cifar';
  /** Stop when validation accuracy has not improved for this many epochs (0: never). */
  patience: number;
  freezeBackbone: boolean;
  /** Data-parallel runs: BatchNorm statistics over the global batch (SyncBatchNorm). */
  syncBn: boolean;
  out?: string;
  resume?: string;
  /** Download the dataset when it is missing (CLI runs do; the library defaults to no). */
  download: boolean;
}

export const DEFAULT_CONFIG: TrainConfig = {
  model: 'lenet5', dataset: 'fashion-mnist-mini', epochs: 10, batchSize: 32, lr: NaN,
  optimizer: 'adam', momentum: 0.9, nesterov: false, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8,
  scheduler: 'none', stepSize: 30, milestones: [], gamma: 0.1, minLr: 0, t0: 10, tMult: 1,
  plateauPatience: 10, plateauFactor: 0.1, plateauThreshold: 1e-4, plateauCooldown: 0,
  pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4, warmupEpochs: 0, labelSmoothing: 0, augment: 'none', extraAugment: {},
  seed: 0, valSplit: 0, patience: 0, freezeBackbone: false, syncBn: false, download: true,
};

/** The learning rate PyTorch examples use when none is given. */
export function defaultLr(optimizer: OptimizerName): number {
  return optimizer === 'sgd' ? 0.01 : 1e-3;
}

export class ConfigError extends Error {}

function check(ok: boolean, message: string): void {
  if (!ok) throw new ConfigError(message);
}

/** Fills defaults and rejects impossible combinations with one clear message. */
export function resolveConfig(partial: Partial<TrainConfig>): TrainConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<TrainConfig>;
  const c: TrainConfig = { ...DEFAULT_CONFIG, ...defined };
  if (Number.isNaN(c.lr)) c.lr = defaultLr(c.optimizer);
  check(['sgd', 'adam', 'adamw'].includes(c.optimizer), `Expected sgd, adam or adamw for --optimizer but received '${c.optimizer}'`);
  check(['none', 'step', 'multistep', 'cosine', 'cosine-restarts', 'plateau', 'onecycle'].includes(c.scheduler),
    `Expected none, step, multistep, cosine, cosine-restarts, plateau or onecycle for --scheduler but received '${c.scheduler}'`);
  check(['none', 'basic', 'strong'].includes(c.augment), `Expected none, basic or strong for --augment but received '${c.augment}'`);
  check(Number.isInteger(c.epochs) && c.epochs >= 1, `Expected a positive integer for --epochs but received ${c.epochs}`);
  check(Number.isInteger(c.batchSize) && c.batchSize >= 1, `Expected a positive integer for --batch-size but received ${c.batchSize}`);
  check(Number.isFinite(c.lr) && c.lr > 0, `Expected a positive number for --lr but received ${c.lr}`);
  check(c.momentum >= 0 && c.momentum < 1, `Expected --momentum in [0, 1) but received ${c.momentum}`);
  check(c.weightDecay >= 0, `Expected a non-negative --weight-decay but received ${c.weightDecay}`);
  check(c.betas.every((b) => b >= 0 && b < 1), `Expected --betas in [0, 1) but received ${c.betas.join(',')}`);
  check(c.eps > 0, `Expected a positive --eps but received ${c.eps}`);
  check(!c.nesterov || (c.optimizer === 'sgd' && c.momentum > 0), '--nesterov needs --optimizer sgd with a --momentum above 0');
  check(c.labelSmoothing >= 0 && c.labelSmoothing <= 1, `Expected --label-smoothing in [0, 1] but received ${c.labelSmoothing}`);
  check(c.valSplit >= 0 && c.valSplit < 1, `Expected --val-split in [0, 1) but received ${c.valSplit}`);
  check(Number.isInteger(c.warmupEpochs) && c.warmupEpochs >= 0 && c.warmupEpochs < c.epochs,
    `Expected --warmup-epochs between 0 and epochs − 1 (${c.epochs - 1}) but received ${c.warmupEpochs}`);
  check(!(c.warmupEpochs > 0 && c.scheduler === 'onecycle'), '--warmup-epochs does not combine with --scheduler onecycle (it warms up by itself)');
  check(Number.isInteger(c.stepSize) && c.stepSize >= 1, `Expected a positive integer for --step-size but received ${c.stepSize}`);
  check(c.milestones.every((m) => Number.isInteger(m) && m >= 1), `Expected positive integers for --milestones but received ${c.milestones.join(',')}`);
  check(c.scheduler !== 'multistep' || c.milestones.length > 0, '--scheduler multistep needs --milestones, e.g. --milestones 30,60');
  check(c.gamma > 0, `Expected a positive --gamma but received ${c.gamma}`);
  check(c.tMax === undefined || (Number.isInteger(c.tMax) && c.tMax >= 1), `Expected a positive integer for --t-max but received ${c.tMax}`);
  check(Number.isInteger(c.t0) && c.t0 >= 1 && Number.isInteger(c.tMult) && c.tMult >= 1, 'Expected positive integers for --t0 and --t-mult');
  check(c.minLr >= 0, `Expected a non-negative --min-lr but received ${c.minLr}`);
  check(c.plateauFactor > 0 && c.plateauFactor < 1, `Expected --plateau-factor in (0, 1) but received ${c.plateauFactor}`);
  check(c.pctStart > 0 && c.pctStart < 1, `Expected --pct-start in (0, 1) but received ${c.pctStart}`);
  check(c.maxLr === undefined || c.maxLr > 0, `Expected a positive --max-lr but received ${c.maxLr}`);
  check(Number.isInteger(c.patience) && c.patience >= 0, `Expected a non-negative integer for --patience but received ${c.patience}`);
  const x = c.extraAugment;
  const prob = (v: number | undefined, name: string) => check(v === undefined || (v >= 0 && v <= 1), `Expected a probability in [0, 1] for --${name} but received ${v}`);
  prob(x.hflip, 'hflip'); prob(x.vflip, 'vflip'); prob(x.grayscale, 'grayscale'); prob(x.erasing, 'erasing');
  check(x.randomCrop === undefined || (Number.isInteger(x.randomCrop) && x.randomCrop >= 0), `Expected a non-negative integer for --random-crop but received ${x.randomCrop}`);
  check(x.randomResizedCrop === undefined || (x.randomResizedCrop > 0 && x.randomResizedCrop <= 1), `Expected a minimum scale in (0, 1] for --random-resized-crop but received ${x.randomResizedCrop}`);
  check(x.rotation === undefined || x.rotation >= 0, `Expected non-negative degrees for --rotation but received ${x.rotation}`);
  check(!x.colorJitter || x.colorJitter.every((v, i) => v >= 0 && (i < 3 || v <= 0.5)), `Expected four non-negative factors (hue <= 0.5) for --color-jitter but received ${x.colorJitter?.join(',')}`);
  check(Number.isSafeInteger(c.seed), `Expected an integer for --seed but received ${c.seed}`);
  check(c.numClasses === undefined || (Number.isInteger(c.numClasses) && c.numClasses >= 1), `Expected a positive integer for --num-classes but received ${c.numClasses}`);
  check(c.imageSize === undefined || (Number.isInteger(c.imageSize) && c.imageSize >= 1), `Expected a positive integer for --image-size but received ${c.imageSize}`);
  return c;
}
