// Gradient accumulation (--accum-steps K): the batches of an epoch fall into groups of K; each
// batch's loss is scaled by 1/(its group's size) and the optimizer steps at each group's end, so
// a group is one step on a K× larger batch. The epoch's last group may be shorter (r batches):
// it is scaled by 1/r and still stepped, as one step on the r batches together.
export class GradientAccumulation {
  constructor(readonly batchesPerEpoch: number, readonly steps: number) {}

  /** Optimizer steps in one epoch (what a per-step scheduler counts). */
  get stepsPerEpoch(): number {
    return Math.ceil(this.batchesPerEpoch / this.steps);
  }

  /** The factor batch b's loss is scaled by: 1/(the size of its group). */
  lossScale(b: number): number {
    const start = b - (b % this.steps);
    return 1 / Math.min(this.steps, this.batchesPerEpoch - start);
  }

  /** Whether batch b starts a group (zero the gradients before its backward). */
  startsGroup(b: number): boolean {
    return b % this.steps === 0;
  }

  /** Whether batch b ends a group (step the optimizer after its backward). */
  endsGroup(b: number): boolean {
    return (b + 1) % this.steps === 0 || b + 1 === this.batchesPerEpoch;
  }
}
