// How OpenMP's idle threads wait, chosen once before the addon loads (libgomp reads the
// environment then). A thread that sleeps at once (OMP_WAIT_POLICY=passive) must be woken for the
// next parallel region: ~60 us per region on our 2-core VM (an empty-region loop), and a resnet18
// training step opens ~140 regions, most of them within 50 us of the last. A thread that spins
// first catches those, but on a shared CPU it holds a core the other processes and its own
// descheduled teammate need: simplecnn training at 2 threads with two busy competitors ran ~30%
// slower spinning 500 times than sleeping at once (issue 13). So the threads spin only when no
// other process is running when the addon loads, and sleep at once otherwise.
//
// How long: a BatchNorm on 128×64×8×8 took 0.224-0.231 ms on 2 threads after 2000 spins (~50 us)
// and 0.168 after 30000 (~0.7 ms; a pause is 24 ns on the Zen 4 host), where 1 thread took 0.220:
// the worker had gone to sleep between calls. resnet18 training at 2 threads, 10 interleaved pairs
// of `cnn bench train --steps 10` on that host: 30000 averaged 5% more images/s (best 858.6 against
// 836.5); on the Zen 5 host 5 pairs had them level (1,383.3 against 1,379.9).
import { readFileSync } from 'node:fs';

/** Spins of an idle OpenMP thread before it sleeps on a free CPU (GOMP_SPINCOUNT: ~0.7 ms of pause instructions on the Zen 4 host). */
export const OPENMP_WAIT_SPINS = 30000;

/**
 * Runnable threads of other processes now, the least of a few looks at /proc/loadavg's running
 * count (which includes the reader itself) a millisecond apart, so that a passing burst (this
 * process's own compiler threads) does not count; undefined where there is no /proc (not Linux).
 */
export function otherRunnableThreads(read = () => readFileSync('/proc/loadavg', 'utf8'), looks = 5): number | undefined {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let least: number | undefined;
  for (let i = 0; i < looks; i++) {
    let running: number;
    try {
      running = Number(/^\S+ \S+ \S+ (\d+)\//.exec(read())?.[1]);
    } catch {
      return undefined;
    }
    if (!Number.isInteger(running)) return undefined;
    least = Math.min(least ?? Infinity, Math.max(0, running - 1));
    if (least === 0) break;
    Atomics.wait(pause, 0, 0, 1);
  }
  return least;
}

/**
 * Sets env's wait policy for OpenMP unless the user chose one (OMP_WAIT_POLICY or GOMP_SPINCOUNT):
 * passive, with OPENMP_WAIT_SPINS spins first where `others` (other runnable threads) is 0.
 */
export function chooseOpenmpWait(env: NodeJS.ProcessEnv, others: () => number | undefined = otherRunnableThreads): void {
  if (env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) return;
  env.OMP_WAIT_POLICY = 'passive';
  if (others() === 0) env.GOMP_SPINCOUNT = String(OPENMP_WAIT_SPINS);
}
