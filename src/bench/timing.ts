// Timing helpers shared by the benchmarks: warm up, then time repetitions until a time budget
// is spent, and report the median (robust to a noisy neighbour on a shared machine).

export interface TimingOptions {
  warmup?: number;
  /** Keep warming up until this many seconds passed too (V8 compiles hot code after a while). */
  warmupSeconds?: number;
  minReps?: number;
  maxReps?: number;
  /** Stop adding repetitions once this many seconds were spent timing. */
  budgetSeconds?: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Seconds of each timed call of fn, after the warm-up. */
export function timeReps(fn: () => void, opts: TimingOptions = {}): number[] {
  const { warmup = 1, warmupSeconds = 0, minReps = 3, maxReps = 50, budgetSeconds = 1 } = opts;
  const warmStart = process.hrtime.bigint();
  for (let i = 0; i < warmup || Number(process.hrtime.bigint() - warmStart) / 1e9 < warmupSeconds; i++) fn();
  const times: number[] = [];
  const start = process.hrtime.bigint();
  while (times.length < maxReps) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const spent = Number(process.hrtime.bigint() - start) / 1e9;
    if (times.length >= minReps && spent >= budgetSeconds) break;
  }
  return times;
}

/** Median seconds per call of fn. */
export function timeMedian(fn: () => void, opts: TimingOptions = {}): number {
  return median(timeReps(fn, opts));
}
