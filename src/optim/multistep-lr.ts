// Multiplies the lr by gamma at each milestone, by gamma^k for a milestone listed k times
// (torch.optim.lr_scheduler.MultiStepLR).
import type { Optimizer } from './optimizer.js';
import { LRScheduler, readNumber, readNumbers } from './scheduler.js';

export interface MultiStepLROptions { milestones: number[]; gamma?: number; lastEpoch?: number }

function checkMilestones(m: unknown): number[] {
  if (!Array.isArray(m) || !m.every((x) => Number.isInteger(x))) {
    throw new TypeError('milestones must be an array of integers');
  }
  return [...(m as number[])].sort((a, b) => a - b);
}

export class MultiStepLR extends LRScheduler {
  private milestones: number[];
  private gamma: number;

  constructor(optimizer: Optimizer, o: MultiStepLROptions) {
    super(optimizer, o.lastEpoch ?? -1);
    this.milestones = checkMilestones(o.milestones);
    this.gamma = o.gamma ?? 0.1;
    this.initialStep();
  }

  protected getLr(): number[] {
    const count = this.milestones.filter((m) => m === this.lastEpoch).length;
    const lrs = this.currentLrs();
    if (count === 0) return lrs;
    return lrs.map((lr) => lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length;  // bisect_right
    return this.baseLrs.map((lr) => lr * this.gamma ** passed);
  }

  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), milestones: [...this.milestones], gamma: this.gamma };
  }

  override loadStateDict(s: Record<string, unknown>): void {
    const milestones = checkMilestones(readNumbers(s, 'milestones'));
    const gamma = readNumber(s, 'gamma');
    super.loadStateDict(s);
    this.milestones = milestones;
    this.gamma = gamma;
  }
}
