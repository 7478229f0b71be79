// Loading the addon makes OpenMP's idle threads sleep (OMP_WAIT_POLICY=passive), after a short spin
// (GOMP_SPINCOUNT) where no other process was running, unless the user chose a policy or a spin
// count: spinning threads collapse training speed on a shared CPU, threads that sleep at once pay
// a wake-up per parallel region on a free one (issue 13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { OPENMP_WAIT_SPINS, chooseOpenmpWait, otherRunnableThreads } from '../../src/tensor/openmp-wait.js';

const nativeModule = new URL('../../src/tensor/native.js', import.meta.url).href;

function waitAfterLoad(env: NodeJS.ProcessEnv): string {
  const script = `await import(${JSON.stringify(nativeModule)}); console.log(process.env.OMP_WAIT_POLICY, process.env.GOMP_SPINCOUNT);`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' }).trim();
}

const { OMP_WAIT_POLICY: _policy, GOMP_SPINCOUNT: _spins, ...clean } = process.env;

test('the addon loads with a passive OpenMP wait policy, spinning first only on a free CPU', () => {
  // Which of the two depends on this machine's load at the time; chooseOpenmpWait's cases are below.
  assert.ok(['passive undefined', `passive ${OPENMP_WAIT_SPINS}`].includes(waitAfterLoad(clean)));
});

test("a user's OMP_WAIT_POLICY or GOMP_SPINCOUNT is kept, with libgomp's defaults for the other", () => {
  assert.equal(waitAfterLoad({ ...clean, OMP_WAIT_POLICY: 'active' }), 'active undefined');
  assert.equal(waitAfterLoad({ ...clean, GOMP_SPINCOUNT: '0' }), 'undefined 0');
});

test('the threads spin first when no other thread is runnable, and sleep at once otherwise or where that is unknown', () => {
  const chosen = (others: number | undefined, env: NodeJS.ProcessEnv = {}) => {
    chooseOpenmpWait(env, () => others);
    return env;
  };
  assert.deepEqual(chosen(0), { OMP_WAIT_POLICY: 'passive', GOMP_SPINCOUNT: String(OPENMP_WAIT_SPINS) });
  assert.deepEqual(chosen(1), { OMP_WAIT_POLICY: 'passive' });
  assert.deepEqual(chosen(undefined), { OMP_WAIT_POLICY: 'passive' });
  assert.deepEqual(chosen(0, { OMP_WAIT_POLICY: 'passive' }), { OMP_WAIT_POLICY: 'passive' });
  assert.deepEqual(chosen(0, { GOMP_SPINCOUNT: '10' }), { GOMP_SPINCOUNT: '10' });
  // Fewer than libgomp's own spins where no policy is set (300,000): the threads still sleep between steps.
  assert.ok(OPENMP_WAIT_SPINS > 0 && OPENMP_WAIT_SPINS < 300_000);
});

test("other runnable threads: the least of a few looks at /proc/loadavg's running count, less the reader", () => {
  const looks = (...running: number[]) => {
    let i = 0;
    return () => `0.52 0.58 0.59 ${running[Math.min(i++, running.length - 1)]}/214 4242\n`;
  };
  assert.equal(otherRunnableThreads(looks(1)), 0);
  assert.equal(otherRunnableThreads(looks(3, 4, 3, 5, 3)), 2);
  assert.equal(otherRunnableThreads(looks(4, 1, 5), 3), 0);  // a passing burst does not count
  assert.equal(otherRunnableThreads(() => 'garbage'), undefined);
  assert.equal(otherRunnableThreads(() => { throw new Error('ENOENT'); }), undefined);
  const here = otherRunnableThreads();
  assert.ok(here === undefined || (Number.isInteger(here) && here >= 0));
});
