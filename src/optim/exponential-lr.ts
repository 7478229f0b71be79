// Multiplies the lr by gamma every step (torch.optim.lr_scheduler.ExponentialLR).
import type { Optimizer } from './optimizer.js';
import { LRScheduler, readNumber } from './scheduler.js';

export interface ExponentialLROptions { gamma: number; lastEpoch?: number }

export class ExponentialLR extends LRScheduler {
  private gamma: number;

  constructor(optimizer: Optimizer, o: ExponentialLROptions) {
    super(optimizer, o.lastEpoch ?? -1);
    if (typeof o.gamma !== 'number') throw new TypeError('ExponentialLR needs a number gamma');
    this.gamma = o.gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const lrs = this.currentLrs();
    if (this.lastEpoch === 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((lr) => lr * this.gamma ** this.lastEpoch);
  }

  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), gamma: this.gamma };
  }

  override loadStateDict(s: Record<string, unknown>): void {
    const gamma = readNumber(s, 'gamma');
    super.loadStateDict(s);
    this.gamma = gamma;
  }
}
