// The schedule of a run: the named scheduler from optim/schedulers.ts behind an optional
// warm-up, stepped per epoch (plateau on validation loss) or per batch (onecycle).
import { LinearLR, SequentialLR, ReduceLROnPlateau, type Optimizer, type LRScheduler } from '../optim/index.js';
import { schedulerEntry } from '../optim/schedulers.js';
import type { TrainConfig } from './options.js';

/**
 * Warm-up is PyTorch's LinearLR (from lr/(warmup+1) up to lr) chained to the main scheduler with
 * SequentialLR; plateau cannot sit inside SequentialLR (as in PyTorch), so it is warmed up by hand.
 */
export class Schedule {
  readonly perBatch: boolean;
  private readonly main: LRScheduler | ReduceLROnPlateau | null;
  private readonly warmup: LinearLR | null;
  private epochsDone = 0;

  constructor(readonly optimizer: Optimizer, private readonly c: TrainConfig, batchesPerEpoch: number) {
    const entry = schedulerEntry(c.scheduler);
    this.perBatch = entry.perBatch;
    const main = entry.build(optimizer, c, { lr: c.lr, epochs: c.epochs - c.warmupEpochs, warmupEpochs: c.warmupEpochs, batchesPerEpoch });
    const warmup = c.warmupEpochs > 0 ? new LinearLR(optimizer, { startFactor: 1 / (c.warmupEpochs + 1), endFactor: 1, totalIters: c.warmupEpochs }) : null;
    if (warmup && !(main instanceof ReduceLROnPlateau)) {
      this.main = main ? new SequentialLR(optimizer, { schedulers: [warmup, main], milestones: [c.warmupEpochs] }) : warmup;
      this.warmup = null;
    } else {
      this.warmup = warmup;
      this.main = main;
    }
  }

  /** The learning rate of the first parameter group now. */
  get lr(): number {
    return this.optimizer.paramGroups[0].lr;
  }

  afterBatch(): void {
    if (this.perBatch) (this.main as LRScheduler).step();
  }

  afterEpoch(valLoss: number): void {
    this.epochsDone++;
    if (this.perBatch) return;
    if (this.main instanceof ReduceLROnPlateau) {
      if (this.warmup && this.epochsDone <= this.c.warmupEpochs) this.warmup.step();
      else this.main.step(valLoss);
    } else {
      this.main?.step();
    }
  }

  stateDict(): Record<string, unknown> {
    return { epochsDone: this.epochsDone, main: this.main?.stateDict() ?? null, warmup: this.warmup?.stateDict() ?? null };
  }

  loadStateDict(s: Record<string, unknown>): void {
    this.epochsDone = s.epochsDone as number;
    if (this.main && s.main) this.main.loadStateDict(s.main as Record<string, unknown>);
    if (this.warmup && s.warmup) this.warmup.loadStateDict(s.warmup as Record<string, unknown>);
  }

  /** Replays the steps of `epochs` finished epochs on a fresh schedule (a re-planned resume). */
  fastForward(epochs: number, batchesPerEpoch: number, valLosses: number[]): void {
    for (let e = 0; e < epochs; e++) {
      if (this.perBatch) for (let b = 0; b < batchesPerEpoch; b++) this.afterBatch();
      this.afterEpoch(valLosses[e] ?? NaN);
    }
  }
}
