// cnn lr-find's formulas against fastai's (test/fixtures/gen_lr_find.py writes them out in torch):
// the exponential lr sequence, the smoothed loss of a given raw-loss sequence, where stop_div
// ends the sweep, and both suggestions (steepest descent, minimum/10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { lrSweep, SmoothedLoss, DivergenceCheck, suggestLrs } from '../../src/train/lr-finder.js';
import { repoRoot } from '../helpers/fixtures.js';

interface LrFindCase {
  name: string;
  startLr: number;
  endLr: number;
  steps: number;
  /** null stands for NaN (JSON has none). */
  rawLosses: (number | null)[];
  lrs: number[];
  losses: (number | null)[];
  steep: number;
  steepLoss: number;
  minimum: number;
  minimumAt: number;
  minimumLoss: number;
}

const cases = (JSON.parse(readFileSync(`${repoRoot}test/fixtures/lr_find.json`, 'utf8')) as { cases: LrFindCase[] }).cases;
const nan = (v: number | null) => v ?? NaN;

/** fastai computes the smoothing and suggestions in float32, cnn in float64. */
function assertNear(actual: number, expected: number, what: string, rel = 2e-6): void {
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} vs fastai's ${expected}`);
}

/** fastai's LRFinder loop over given losses: record, then stop on divergence or after `steps` batches. */
function sweep(c: LrFindCase): { lrs: number[]; losses: number[] } {
  const all = lrSweep(c.startLr, c.endLr, c.steps);
  const smoother = new SmoothedLoss(), divergence = new DivergenceCheck();
  const lrs: number[] = [], losses: number[] = [];
  for (let i = 0; i < c.steps; i++) {
    lrs.push(all[i]);
    losses.push(smoother.add(nan(c.rawLosses[i])));
    if (divergence.diverged(losses[i])) break;
  }
  return { lrs, losses };
}

test('the fixture covers a diverging sweep, a full one, another range and a NaN tail', () => {
  assert.deepEqual(cases.map((c) => c.name), ['defaults_diverges', 'full_sweep', 'short_range', 'nan_tail']);
  assert.ok(cases[0].lrs.length < cases[0].steps, 'the first case stops early');
  assert.equal(cases[1].lrs.length, cases[1].steps);
});

for (const c of cases) {
  test(`${c.name}: the lr sequence is fastai's SchedExp, start·(end/start)^(i/steps)`, () => {
    const lrs = lrSweep(c.startLr, c.endLr, c.steps);
    assert.equal(lrs.length, c.steps);
    assert.equal(lrs[0], c.startLr);
    c.lrs.forEach((lr, i) => assertNear(lrs[i], lr, `lr ${i}`, 1e-14));
    assert.ok(lrs[c.steps - 1] < c.endLr, 'the last batch trains just below --end-lr, as in fastai');
  });

  test(`${c.name}: smoothed losses, the stopping step and both suggestions equal fastai's`, () => {
    const { lrs, losses } = sweep(c);
    assert.equal(lrs.length, c.lrs.length, 'the sweep stops where fastai stops');
    c.losses.forEach((l, i) => assertNear(losses[i], nan(l), `smoothed loss ${i}`));
    const s = suggestLrs(lrs, losses, c.steps);
    assert.ok(s);
    assertNear(s.steep.lr, c.steep, 'steepest-descent lr');
    assertNear(s.steep.loss, c.steepLoss, 'steepest-descent loss');
    assertNear(s.minimum.lr, c.minimum, 'minimum/10');
    assertNear(s.minimum.minimumAt, c.minimumAt, 'lr at the minimum');
    assertNear(s.minimum.loss, c.minimumLoss, 'minimum loss');
  });
}

test('the smoothed loss is the bias-corrected moving average (beta 0.98): a constant stays itself', () => {
  const s = new SmoothedLoss();
  for (let i = 0; i < 5; i++) assertNear(s.add(1.5), 1.5, `step ${i}`, 1e-12);
  assertNear(new SmoothedLoss().add(2), 2, 'first value', 1e-12);
});

test('too few points after trimming the first tenth and the last five give no suggestion', () => {
  assert.equal(suggestLrs([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 1, 1], 10), null);
  assert.ok(suggestLrs([1, 2, 3, 4, 5, 6, 7, 8], [3, 2, 1, 1, 1, 1, 1, 1], 10));
});
