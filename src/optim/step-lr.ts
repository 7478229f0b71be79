// Multiplies the lr by gamma every stepSize steps (torch.optim.lr_scheduler.StepLR).
import type { Optimizer } from './optimizer.js';
import { LRScheduler, positiveInteger, pyMod, readNumber } from './scheduler.js';

export interface StepLROptions { stepSize: number; gamma?: number; lastEpoch?: number }

export class StepLR extends LRScheduler {
  private stepSize: number;
  private gamma: number;

  constructor(optimizer: Optimizer, o: StepLROptions) {
    super(optimizer, o.lastEpoch ?? -1);
    this.stepSize = positiveInteger(o.stepSize, 'step_size');
    this.gamma = o.gamma ?? 0.1;
    this.initialStep();
  }

  protected getLr(): number[] {
    const lrs = this.currentLrs();
    if (this.lastEpoch === 0 || pyMod(this.lastEpoch, this.stepSize) !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((lr) => lr * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }

  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), stepSize: this.stepSize, gamma: this.gamma };
  }

  override loadStateDict(s: Record<string, unknown>): void {
    const stepSize = positiveInteger(readNumber(s, 'stepSize'), 'step_size');
    const gamma = readNumber(s, 'gamma');
    super.loadStateDict(s);
    this.stepSize = stepSize;
    this.gamma = gamma;
  }
}
