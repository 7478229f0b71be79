// Milliseconds per call of fn: two warm-up calls, as many calls as fill `windowMs` counted, then
// the best of 5 timings of that many calls (a shared machine's neighbours only ever add time).
export function bestMs(fn, windowMs) {
  fn(), fn();
  let k = 0;
  for (const t0 = performance.now(); performance.now() - t0 < windowMs; k++) fn();
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) fn();
    best = Math.min(best, (performance.now() - t0) / k);
  }
  return best;
}
