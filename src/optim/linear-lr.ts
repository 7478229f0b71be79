// Scales the lr by a factor moving linearly from startFactor to endFactor over totalIters steps
// (torch.optim.lr_scheduler.LinearLR); the usual warmup.
import type { Optimizer } from './optimizer.js';
import { LRScheduler, positiveInteger, readNumber } from './scheduler.js';

export interface LinearLROptions { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number }

export class LinearLR extends LRScheduler {
  private startFactor: number;
  private endFactor: number;
  private totalIters: number;

  constructor(optimizer: Optimizer, o: LinearLROptions = {}) {
    super(optimizer, o.lastEpoch ?? -1);
    const startFactor = o.startFactor ?? 1 / 3;
    const endFactor = o.endFactor ?? 1;
    // PyTorch 1.13 lets 0 through and then divides by it; 2.x rejects it with this message.
    if (!(startFactor > 0 && startFactor <= 1)) {
      throw new RangeError('Starting multiplicative factor expected to be greater than 0 and less or equal to 1.');
    }
    if (!(endFactor >= 0 && endFactor <= 1)) throw new RangeError('Ending multiplicative factor expected to be between 0 and 1.');
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = positiveInteger(o.totalIters ?? 5, 'total_iters');
    this.initialStep();
  }

  protected getLr(): number[] {
    const lrs = this.currentLrs();
    if (this.lastEpoch === 0) return lrs.map((lr) => lr * this.startFactor);
    if (this.lastEpoch > this.totalIters) return lrs;
    const delta = this.endFactor - this.startFactor;
    return lrs.map((lr) => lr * (1 + delta / (this.totalIters * this.startFactor + (this.lastEpoch - 1) * delta)));
  }

  protected override closedFormLr(): number[] {
    const delta = this.endFactor - this.startFactor;
    return this.baseLrs.map((lr) => lr * (this.startFactor + delta * Math.min(this.totalIters, this.lastEpoch) / this.totalIters));
  }

  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), startFactor: this.startFactor, endFactor: this.endFactor, totalIters: this.totalIters };
  }

  override loadStateDict(s: Record<string, unknown>): void {
    const startFactor = readNumber(s, 'startFactor');
    const endFactor = readNumber(s, 'endFactor');
    const totalIters = positiveInteger(readNumber(s, 'totalIters'), 'total_iters');
    super.loadStateDict(s);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
  }
}
