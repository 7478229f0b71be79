// fastai's learning-rate finder, its formulas only (fastai/callback/schedule.py): the exponential
// sweep, the smoothed loss that stops it, and the two suggestions read off the recorded curve.

/** fastai's SchedExp over `steps` batches: batch i trains at start·(end/start)^(i/steps), so the last is just below end. */
export function lrSweep(startLr: number, endLr: number, steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => startLr * (endLr / startLr) ** (i / steps));
}

/** fastai's AvgSmoothLoss: an exponential moving average of the batch losses with bias correction. */
export class SmoothedLoss {
  private average = 0;
  private count = 0;

  constructor(readonly beta = 0.98) {}

  /** Adds a batch's loss and returns the smoothed value. */
  add(loss: number): number {
    this.count++;
    this.average = this.beta * this.average + (1 - this.beta) * loss;
    return this.value;
  }

  get value(): number {
    return this.average / (1 - this.beta ** this.count);
  }
}

/** fastai's stop_div rule: the sweep ends once the smoothed loss exceeds 4× the lowest so far. */
export class DivergenceCheck {
  private best = Infinity;

  /** True when `smoothed` has diverged. */
  diverged(smoothed: number): boolean {
    if (smoothed < this.best) this.best = smoothed;
    return smoothed > 4 * this.best;
  }
}

export interface LrSuggestions {
  /** Where the smoothed loss falls fastest against log(lr): fastai's `steep`. */
  steep: { lr: number; loss: number };
  /** A tenth of the lr at the lowest smoothed loss: fastai's `minimum` (`minimumAt` is that lr). */
  minimum: { lr: number; minimumAt: number; loss: number };
}

/**
 * fastai's suggestions from the recorded sweep: the first tenth of the requested steps and the
 * last five recorded points are left out (lr_find's `[num_it//10:-5]`), as is everything from the
 * first NaN on; null when fewer than two points remain.
 */
export function suggestLrs(lrs: readonly number[], losses: readonly number[], steps: number): LrSuggestions | null {
  const from = Math.floor(steps / 10), to = lrs.length - 5;
  let l = lrs.slice(from, Math.max(from, to)), s = losses.slice(from, Math.max(from, to));
  const nan = s.findIndex((v) => Number.isNaN(v));
  if (nan >= 0) [l, s] = [l.slice(0, nan), s.slice(0, nan)];
  if (l.length < 2) return null;
  let lowest = 0, steepest = 0, steepestSlope = Infinity;
  for (let i = 0; i < s.length; i++) {
    if (s[i] < s[lowest]) lowest = i;
    if (i + 1 < s.length) {
      const slope = (s[i + 1] - s[i]) / (Math.log(l[i + 1]) - Math.log(l[i]));
      if (slope < steepestSlope) [steepest, steepestSlope] = [i, slope];
    }
  }
  return { steep: { lr: l[steepest], loss: s[steepest] }, minimum: { lr: l[lowest] / 10, minimumAt: l[lowest], loss: s[lowest] } };
}
