// Optimizer and learning-rate schedule from the run's options, following PyTorch's classes.
import type { Tensor } from '../tensor/tensor.js';
import {
  SGD, Adam, AdamW, StepLR, MultiStepLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, ReduceLROnPlateau,
  OneCycleLR, LinearLR, SequentialLR, type Optimizer, type LRScheduler,
} from '../optim/index.js';
import type { TrainConfig } from './config.js';

export function buildOptimizer(params: Tensor[], c: TrainConfig): Optimizer {
  switch (c.optimizer) {
    case 'sgd': return new SGD(params, { lr: c.lr, momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay });
    case 'adam': return new Adam(params, { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.weightDecay });
    case 'adamw': return new AdamW(params, { lr: c.lr, betas: c.betas, eps: c.eps, weightDecay: c.weightDecay });
  }
}

/**
 * The schedule of a run. Epoch schedulers step after each epoch (plateau on validation loss);
 * onecycle steps after each batch. Warm-up is PyTorch's LinearLR (from lr/(warmup+1) up to lr)
 * chained to the main scheduler with SequentialLR.
 */
export class Schedule {
  readonly perBatch: boolean;
  private readonly main: LRScheduler | ReduceLROnPlateau | null;
  private readonly warmup: LinearLR | null;
  private epochsDone = 0;

  constructor(readonly optimizer: Optimizer, private readonly c: TrainConfig, batchesPerEpoch: number) {
    this.perBatch = c.scheduler === 'onecycle';
    const mainEpochs = c.epochs - c.warmupEpochs;
    let main: LRScheduler | ReduceLROnPlateau | null;
    switch (c.scheduler) {
      case 'none': main = null; break;
      case 'step': main = new StepLR(optimizer, { stepSize: c.stepSize, gamma: c.gamma }); break;
      case 'multistep': main = new MultiStepLR(optimizer, { milestones: c.milestones.map((m) => m - c.warmupEpochs), gamma: c.gamma }); break;
      case 'cosine': main = new CosineAnnealingLR(optimizer, { tMax: c.tMax ?? mainEpochs, etaMin: c.minLr }); break;
      case 'cosine-restarts': main = new CosineAnnealingWarmRestarts(optimizer, { t0: c.t0, tMult: c.tMult, etaMin: c.minLr }); break;
      case 'plateau': main = new ReduceLROnPlateau(optimizer, {
        factor: c.plateauFactor, patience: c.plateauPatience, threshold: c.plateauThreshold, cooldown: c.plateauCooldown, minLr: c.minLr,
      }); break;
      case 'onecycle': main = new OneCycleLR(optimizer, {
        maxLr: c.maxLr ?? c.lr, totalSteps: c.epochs * batchesPerEpoch, pctStart: c.pctStart, divFactor: c.divFactor, finalDivFactor: c.finalDivFactor,
      }); break;
    }
    if (c.warmupEpochs > 0 && !(main instanceof ReduceLROnPlateau)) {
      const warmup = new LinearLR(optimizer, { startFactor: 1 / (c.warmupEpochs + 1), endFactor: 1, totalIters: c.warmupEpochs });
      this.main = main ? new SequentialLR(optimizer, { schedulers: [warmup, main], milestones: [c.warmupEpochs] }) : warmup;
      this.warmup = null;
    } else {
      // Plateau cannot sit inside SequentialLR (as in PyTorch): warm up by hand, then let it watch the loss.
      this.warmup = c.warmupEpochs > 0 ? new LinearLR(optimizer, { startFactor: 1 / (c.warmupEpochs + 1), endFactor: 1, totalIters: c.warmupEpochs }) : null;
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
