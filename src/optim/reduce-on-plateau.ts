// Cuts the lr by `factor` once a metric has stopped improving for `patience` steps
// (torch.optim.lr_scheduler.ReduceLROnPlateau). step(metric) takes the metric.
import type { Optimizer } from './optimizer.js';
import { LRScheduler, encodeNumber, perGroup, readNumber, readNumbers, readString } from './scheduler.js';

export type PlateauMode = 'min' | 'max';
export type ThresholdMode = 'rel' | 'abs';

export interface ReduceLROnPlateauOptions {
  mode?: PlateauMode;
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: ThresholdMode;
  cooldown?: number;
  minLr?: number | number[];
  eps?: number;
}

function checkModes(mode: string, thresholdMode: string): void {
  if (mode !== 'min' && mode !== 'max') throw new RangeError(`mode ${mode} is unknown!`);
  if (thresholdMode !== 'rel' && thresholdMode !== 'abs') throw new RangeError(`threshold mode ${thresholdMode} is unknown!`);
}

export class ReduceLROnPlateau extends LRScheduler {
  private mode: PlateauMode;
  private factor: number;
  private patience: number;
  private threshold: number;
  private thresholdMode: ThresholdMode;
  private cooldown: number;
  private minLrs: number[];
  private eps: number;
  private best: number;
  private numBadEpochs = 0;
  private cooldownCounter = 0;

  constructor(optimizer: Optimizer, o: ReduceLROnPlateauOptions = {}) {
    // Unlike the other schedulers it leaves initialLr alone, counts from 0 and takes no first step.
    super(optimizer, 0, false);
    const factor = o.factor ?? 0.1;
    if (!(factor < 1)) throw new RangeError('Factor should be < 1.0.');
    this.mode = o.mode ?? 'min';
    this.thresholdMode = o.thresholdMode ?? 'rel';
    checkModes(this.mode, this.thresholdMode);
    this.factor = factor;
    this.patience = o.patience ?? 10;
    this.threshold = o.threshold ?? 1e-4;
    this.cooldown = o.cooldown ?? 0;
    this.minLrs = perGroup(optimizer, 'min_lr', o.minLr ?? 0);
    this.eps = o.eps ?? 1e-8;
    this.best = this.modeWorse();
    this.lastLr = this.currentLrs();
  }

  private modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** The lrs stay as they are until step(metric) decides otherwise. */
  protected getLr(): number[] {
    return this.currentLrs();
  }

  override step(metric?: number): void {
    if (typeof metric !== 'number') {
      throw new TypeError(`ReduceLROnPlateau.step needs the metric (a number) but received ${String(metric)}`);
    }
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;  // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.currentLrs();
  }

  override stepToEpoch(epoch: number): void {
    throw new Error('ReduceLROnPlateau steps with step(metric)');
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const newLr = Math.max(g.lr * this.factor, this.minLrs[i]);
      if (g.lr - newLr > this.eps) g.lr = newLr;
    });
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  override stateDict(): Record<string, unknown> {
    return {
      ...super.stateDict(), mode: this.mode, factor: this.factor, patience: this.patience, threshold: this.threshold,
      thresholdMode: this.thresholdMode, cooldown: this.cooldown, minLrs: [...this.minLrs], eps: this.eps,
      best: encodeNumber(this.best), numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter,
    };
  }

  override loadStateDict(s: Record<string, unknown>): void {
    const mode = readString(s, 'mode');
    const thresholdMode = readString(s, 'thresholdMode');
    checkModes(mode, thresholdMode);
    const minLrs = readNumbers(s, 'minLrs');
    if (minLrs.length !== this.optimizer.paramGroups.length) {
      throw new RangeError(`expected ${this.optimizer.paramGroups.length} min_lrs, got ${minLrs.length}`);
    }
    const fields = {
      factor: readNumber(s, 'factor'), patience: readNumber(s, 'patience'), threshold: readNumber(s, 'threshold'),
      cooldown: readNumber(s, 'cooldown'), eps: readNumber(s, 'eps'), best: readNumber(s, 'best'),
      numBadEpochs: readNumber(s, 'numBadEpochs'), cooldownCounter: readNumber(s, 'cooldownCounter'),
    };
    super.loadStateDict(s);
    Object.assign(this, fields, { mode, thresholdMode, minLrs });
  }
}
