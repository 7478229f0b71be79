// The learning-rate schedules `cnn train --scheduler NAME` knows: name → {options, build}. Each
// entry lists the option rows it reads (a row shared by several, like --gamma, is one object);
// adding a scheduler is one file and one entry here.
import { numberRow, listRow, type ConfigFrom } from '../option-row.js';
import type { Optimizer } from './optimizer.js';
import type { LRScheduler } from './scheduler.js';
import { StepLR } from './step-lr.js';
import { MultiStepLR } from './multistep-lr.js';
import { ExponentialLR } from './exponential-lr.js';
import { CosineAnnealingLR } from './cosine-annealing-lr.js';
import { CosineAnnealingWarmRestarts } from './cosine-warm-restarts.js';
import { ReduceLROnPlateau } from './reduce-on-plateau.js';
import { OneCycleLR } from './one-cycle-lr.js';

const group = 'scheduler';
const int = { integer: true, min: 1, group } as const;

export const SCHEDULER_ROWS = {
  stepSize: numberRow('stepSize', '--step-size <n>', { ...int, default: 30, help: 'epochs between decays' }),
  milestones: listRow<'milestones', number[], number[]>('milestones', '--milestones <list>', {
    default: [], integer: true, min: 1, expected: 'positive integers', help: 'epochs where the lr decays, e.g. 30,60', group,
  }),
  gamma: numberRow('gamma', '--gamma <x>', { default: 0.1, min: 0, open: 'min', help: 'decay factor', group }),
  tMax: numberRow('tMax', '--t-max <n>', { ...int, defaultText: 'epochs after warm-up', help: 'epochs of the half cosine' }),
  minLr: numberRow('minLr', '--min-lr <x>', { default: 0, min: 0, help: 'lowest lr (eta_min, plateau min_lr)', group }),
  t0: numberRow('t0', '--t0 <n>', { ...int, default: 10, help: 'epochs of the first period' }),
  tMult: numberRow('tMult', '--t-mult <n>', { ...int, default: 1, help: 'period growth factor' }),
  plateauPatience: numberRow('plateauPatience', '--plateau-patience <n>', { integer: true, min: 0, default: 10, help: 'epochs without improvement before decaying', group }),
  plateauFactor: numberRow('plateauFactor', '--plateau-factor <x>', { default: 0.1, min: 0, max: 1, open: 'both', help: 'decay factor', group }),
  plateauThreshold: numberRow('plateauThreshold', '--plateau-threshold <x>', { default: 1e-4, min: 0, help: 'relative improvement that counts', group }),
  plateauCooldown: numberRow('plateauCooldown', '--plateau-cooldown <n>', { integer: true, min: 0, default: 0, help: 'epochs to wait after a decay', group }),
  maxLr: numberRow('maxLr', '--max-lr <x>', { min: 0, open: 'min', defaultText: '--lr', help: 'peak learning rate', group }),
  pctStart: numberRow('pctStart', '--pct-start <x>', { default: 0.3, min: 0, max: 1, open: 'both', help: 'fraction of steps spent increasing', group }),
  divFactor: numberRow('divFactor', '--div-factor <x>', { default: 25, min: 0, open: 'min', help: 'initial lr = max-lr / div-factor', group }),
  finalDivFactor: numberRow('finalDivFactor', '--final-div-factor <x>', { default: 1e4, min: 0, open: 'min', help: 'final lr = initial lr / final-div-factor', group }),
} as const;

type Rows = typeof SCHEDULER_ROWS;
type Values<K extends keyof Rows> = ConfigFrom<Rows[K][]>;

/** What a schedule needs to know about the run besides its own options. */
export interface SchedulePlan {
  lr: number;
  /** Epochs the scheduler itself runs (after any warm-up). */
  epochs: number;
  warmupEpochs: number;
  batchesPerEpoch: number;
}

export type AnyScheduler = LRScheduler | ReduceLROnPlateau;

export interface SchedulerEntry<K extends keyof Rows> {
  description: string;
  /** Stepped after every batch rather than every epoch. */
  perBatch: boolean;
  options: readonly Rows[K][];
  build(optimizer: Optimizer, o: Values<K>, plan: SchedulePlan): AnyScheduler | null;
}

const entry = <K extends keyof Rows>(description: string, keys: readonly K[], build: SchedulerEntry<K>['build'], perBatch = false): SchedulerEntry<K> =>
  ({ description, perBatch, options: keys.map((k) => SCHEDULER_ROWS[k]), build });

export const SCHEDULERS = {
  none: entry('constant learning rate', [], () => null),
  step: entry('StepLR: multiply by gamma every step-size epochs', ['stepSize', 'gamma'],
    (opt, o) => new StepLR(opt, { stepSize: o.stepSize, gamma: o.gamma })),
  multistep: entry('MultiStepLR: multiply by gamma at each milestone', ['milestones', 'gamma'],
    (opt, o, plan) => new MultiStepLR(opt, { milestones: o.milestones.map((m) => m - plan.warmupEpochs), gamma: o.gamma })),
  exponential: entry('ExponentialLR: multiply by gamma every epoch', ['gamma'],
    (opt, o) => new ExponentialLR(opt, { gamma: o.gamma })),
  cosine: entry('CosineAnnealingLR: half a cosine from lr to min-lr', ['tMax', 'minLr'],
    (opt, o, plan) => new CosineAnnealingLR(opt, { tMax: o.tMax ?? plan.epochs, etaMin: o.minLr })),
  'cosine-restarts': entry('CosineAnnealingWarmRestarts', ['t0', 'tMult', 'minLr'],
    (opt, o) => new CosineAnnealingWarmRestarts(opt, { t0: o.t0, tMult: o.tMult, etaMin: o.minLr })),
  plateau: entry('ReduceLROnPlateau on the validation loss', ['plateauPatience', 'plateauFactor', 'plateauThreshold', 'plateauCooldown', 'minLr'],
    (opt, o) => new ReduceLROnPlateau(opt, {
      factor: o.plateauFactor, patience: o.plateauPatience, threshold: o.plateauThreshold, cooldown: o.plateauCooldown, minLr: o.minLr,
    })),
  onecycle: entry('OneCycleLR, stepped per batch', ['maxLr', 'pctStart', 'divFactor', 'finalDivFactor'],
    (opt, o, plan) => new OneCycleLR(opt, {
      maxLr: o.maxLr ?? plan.lr, totalSteps: plan.epochs * plan.batchesPerEpoch, pctStart: o.pctStart, divFactor: o.divFactor, finalDivFactor: o.finalDivFactor,
    }), true),
} as const;

export type SchedulerName = keyof typeof SCHEDULERS;
export const SCHEDULER_NAMES = Object.keys(SCHEDULERS) as SchedulerName[];

export function schedulerEntry(name: SchedulerName): SchedulerEntry<keyof Rows> {
  return SCHEDULERS[name] as unknown as SchedulerEntry<keyof Rows>;
}
