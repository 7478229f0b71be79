// Runs schedulers one after another, switching at the milestones (torch.optim.lr_scheduler.
// SequentialLR); e.g. LinearLR warmup, then CosineAnnealingLR.
import type { Optimizer } from './optimizer.js';
import { LRScheduler, readNumber, readNumbers } from './scheduler.js';

export interface SequentialLROptions { schedulers: LRScheduler[]; milestones: number[]; lastEpoch?: number }

export class SequentialLR extends LRScheduler {
  private readonly schedulers: LRScheduler[];
  private milestones: number[];

  constructor(optimizer: Optimizer, o: SequentialLROptions) {
    super(optimizer, -1);
    const { schedulers, milestones } = o;
    if (!Array.isArray(schedulers) || schedulers.length === 0 || !schedulers.every((s) => s instanceof LRScheduler)) {
      throw new TypeError('SequentialLR needs a non-empty array of schedulers');
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new Error(`Sequential Schedulers expects all schedulers to belong to the same optimizer, but got schedulers at index ${i} to be different than the optimizer passed in.`);
      }
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new RangeError(`Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers ${schedulers.length} and the number of milestones to be equal to ${Array.isArray(milestones) ? milestones.length : 0}`);
    }
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = (o.lastEpoch ?? -1) + 1;
    // Undo the first steps the schedulers took when they were made; only the first one starts.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0].initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  protected getLr(): number[] {
    return this.currentLrs();
  }

  override step(metric?: number): void {
    this.lastEpoch += 1;
    const idx = this.milestones.filter((m) => m <= this.lastEpoch).length;  // bisect_right
    const scheduler = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.stepToEpoch(0);
    else scheduler.step(metric);
    this.lastLr = scheduler.getLastLr();
  }

  override stepToEpoch(epoch: number): void {
    throw new Error('SequentialLR steps with step()');
  }

  override stateDict(): Record<string, unknown> {
    return { ...super.stateDict(), milestones: [...this.milestones], schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  override loadStateDict(s: Record<string, unknown>): void {
    const milestones = readNumbers(s, 'milestones');
    const states = s.schedulers;
    if (!Array.isArray(states) || states.length !== this.schedulers.length) {
      throw new RangeError(`SequentialLR state must hold ${this.schedulers.length} scheduler states`);
    }
    readNumber(s, 'lastEpoch');
    super.loadStateDict(s);
    this.milestones = milestones;
    states.forEach((st, i) => this.schedulers[i].loadStateDict(st as Record<string, unknown>));
  }
}
