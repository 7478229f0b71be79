// Cosine annealing from the base lr to etaMin over tMax steps, in PyTorch's recursive form
// (torch.optim.lr_scheduler.CosineAnnealingLR): each lr is computed from the group's current
// one, so it also follows lr changes made from outside, and past tMax it climbs back up.
import type { Optimizer } from './optimizer.js';
import { LRScheduler, positiveInteger, pyMod, readNumber } from './scheduler.js';

export interface CosineAnnealingLROptions { tMax: number; etaMin?: number; lastEpoch?: number }

export class CosineAnnealingLR extends LRScheduler {
  private tMax: number;
  private etaMin: number;

  constructor(optimizer: Optimizer, o: CosineAnnealingLROptions) {
    super(optimizer, o.lastEpoch ?? -1);
    this.tMax = positiveInteger(o.tMax, 'T_max');
    this.etaMin = o.etaMin ?? 0;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { tMax, etaMin, lastEpoch } = this;
    const groups = this.optimizer.paramGroups;
    if (lastEpoch === 0) return this.currentLrs();
    if (this.stepCount === 1 && lastEpoch > 0) {
      return this.baseLrs.map((base) => etaMin + (base - etaMin) * (1 + Math.cos(lastEpoch * Math.PI / tMax)) / 2);
    }
    if (pyMod(lastEpoch - 1 - tMax, 2 * tMax) === 0) {
      return groups.map((g, i) => g.lr + (this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2);
    }
    return groups.map((g) => (1 + Math.cos(Math.PI * lastEpoch / tMax)) /
      (1 + Math.cos(Math.PI * (lastEpoch - 1) / tMax)) * (g.lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => this.etaMin + (base - this.etaMin) * (1 + Math.cos(Math.PI * this.lastEpoch / this.tMax)) / 2);
  }

  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), tMax: this.tMax, etaMin: this.etaMin };
  }

  override loadStateDict(s: Record<string, unknown>): void {
    const tMax = positiveInteger(readNumber(s, 'tMax'), 'T_max');
    const etaMin = readNumber(s, 'etaMin');
    super.loadStateDict(s);
    this.tMax = tMax;
    this.etaMin = etaMin;
  }
}
