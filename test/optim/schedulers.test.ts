// Learning-rate schedulers against torch.optim.lr_scheduler (1.13) sequences, state round
// trips mid-run, and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor/tensor.js';
import {
  SGD, Adam, type Optimizer, type LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR,
  CosineAnnealingWarmRestarts, ReduceLROnPlateau, OneCycleLR, LinearLR, SequentialLR,
} from '../../src/optim/index.js';
import { repoRoot } from '../helpers/fixtures.js';

interface SchedulerSpec { kind: string; options: Record<string, unknown> }
interface SchedulerCase extends SchedulerSpec {
  name: string;
  optimizer: { kind: 'sgd' | 'adam'; lrs: number[]; options: { momentum?: number } };
  steps: number;
  lrs: number[][];
  momentums?: number[][];
  metrics?: number[];
}

const cases = (JSON.parse(readFileSync(`${repoRoot}test/fixtures/schedulers.json`, 'utf8')) as { cases: SchedulerCase[] }).cases;

function makeOptimizer(c: SchedulerCase): Optimizer {
  const groups = c.optimizer.lrs.map((lr) => ({ params: [Tensor.zeros([2], true)], lr }));
  if (c.optimizer.kind === 'sgd') return new SGD(groups, { lr: c.optimizer.lrs[0], momentum: c.optimizer.options.momentum ?? 0 });
  return new Adam(groups, { lr: c.optimizer.lrs[0] });
}

function build(opt: Optimizer, spec: SchedulerSpec): LRScheduler {
  const o = spec.options as never;
  switch (spec.kind) {
    case 'StepLR': return new StepLR(opt, o);
    case 'MultiStepLR': return new MultiStepLR(opt, o);
    case 'ExponentialLR': return new ExponentialLR(opt, o);
    case 'CosineAnnealingLR': return new CosineAnnealingLR(opt, o);
    case 'CosineAnnealingWarmRestarts': return new CosineAnnealingWarmRestarts(opt, o);
    case 'LinearLR': return new LinearLR(opt, o);
    case 'ReduceLROnPlateau': return new ReduceLROnPlateau(opt, o);
    case 'OneCycleLR': return new OneCycleLR(opt, o);
    case 'SequentialLR': {
      const sub = (spec.options.schedulers as SchedulerSpec[]).map((s) => build(opt, s));
      return new SequentialLR(opt, { schedulers: sub, milestones: spec.options.milestones as number[] });
    }
    default: throw new Error(`unknown scheduler ${spec.kind}`);
  }
}

function momentumOf(opt: Optimizer): number[] {
  return opt.paramGroups.map((g) => (Array.isArray(g.betas) ? (g.betas as number[])[0] : g.momentum as number));
}

/** Same value to ~1e-12 relative: Math.cos and Python's math.cos may differ in the last bit. */
function assertSame(got: number[], want: number[], label: string): void {
  assert.equal(got.length, want.length, label);
  got.forEach((g, i) => {
    if (!(Math.abs(g - want[i]) <= 1e-12 * Math.max(Math.abs(want[i]), 1e-300) + 1e-18)) {
      assert.fail(`${label}: group ${i} is ${g}, expected ${want[i]}`);
    }
  });
}

function check(c: SchedulerCase, opt: Optimizer, sched: LRScheduler, step: number): void {
  const lrs = opt.paramGroups.map((g) => g.lr);
  assertSame(lrs, c.lrs[step], `${c.name} step ${step} lr`);
  assertSame(sched.getLastLr(), c.lrs[step], `${c.name} step ${step} getLastLr`);
  if (c.momentums) assertSame(momentumOf(opt), c.momentums[step], `${c.name} step ${step} momentum`);
}

function advance(c: SchedulerCase, sched: LRScheduler, s: number): void {
  if (c.metrics) sched.step(c.metrics[s - 1]);
  else sched.step();
}

test('the scheduler fixture covers every scheduler', () => {
  const kinds = new Set(cases.map((c) => c.kind));
  for (const k of ['StepLR', 'MultiStepLR', 'ExponentialLR', 'CosineAnnealingLR', 'CosineAnnealingWarmRestarts',
    'LinearLR', 'ReduceLROnPlateau', 'OneCycleLR', 'SequentialLR']) assert.ok(kinds.has(k), k);
});

for (const c of cases) {
  test(`${c.name}: the lr sequence matches PyTorch`, () => {
    const opt = makeOptimizer(c);
    const sched = build(opt, c);
    check(c, opt, sched, 0);
    for (let s = 1; s <= c.steps; s++) {
      advance(c, sched, s);
      check(c, opt, sched, s);
    }
  });

  test(`${c.name}: stateDict/loadStateDict mid-run continues identically`, () => {
    const half = Math.floor(c.steps / 2) + 1;
    const optA = makeOptimizer(c);
    const schedA = build(optA, c);
    for (let s = 1; s <= half; s++) advance(c, schedA, s);
    const saved = JSON.stringify({ sched: schedA.stateDict(), opt: optA.stateDict().json });
    // A fresh optimizer and scheduler, as on --resume, then the saved state.
    const optB = makeOptimizer(c);
    const schedB = build(optB, c);
    const state = JSON.parse(saved) as { sched: Record<string, unknown>; opt: ReturnType<Optimizer['stateDict']>['json'] };
    optB.loadStateDict({ json: state.opt, tensors: new Map() });
    schedB.loadStateDict(state.sched);
    check(c, optB, schedB, half);
    for (let s = half + 1; s <= c.steps; s++) {
      advance(c, schedA, s);
      advance(c, schedB, s);
      check(c, optB, schedB, s);
      assert.deepEqual(schedB.getLastLr(), schedA.getLastLr());
    }
    assert.deepEqual(schedB.stateDict(), schedA.stateDict());
  });
}

const opt = (lr = 0.1) => new SGD([Tensor.zeros([2], true)], { lr, momentum: 0.9 });

test('OneCycleLR refuses to step past totalSteps with PyTorch\'s message', () => {
  const sched = new OneCycleLR(opt(), { maxLr: 1, totalSteps: 4 });
  for (let i = 0; i < 4; i++) sched.step();
  assert.throws(() => sched.step(), { message: 'Tried to step 6 times. The specified number of total steps is 4' });
});

test('schedulers reject bad options', () => {
  assert.throws(() => new OneCycleLR(opt(), { maxLr: 1 }), /You must define either total_steps OR/);
  assert.throws(() => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 0 }), { message: 'Expected positive integer total_steps, but got 0' });
  assert.throws(() => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 10, pctStart: 1.5 }), /pct_start/);
  assert.throws(() => new OneCycleLR(opt(), { maxLr: 1, totalSteps: 10, annealStrategy: 'step' as 'cos' }), /anneal_strategy must by one of 'cos' or 'linear'/);
  assert.throws(() => new OneCycleLR(opt(), { maxLr: [1, 2], totalSteps: 10 }), /expected 1 values for max_lr, got 2/);
  assert.throws(() => new ReduceLROnPlateau(opt(), { factor: 1 }), { message: 'Factor should be < 1.0.' });
  assert.throws(() => new ReduceLROnPlateau(opt(), { mode: 'median' as 'min' }), { message: 'mode median is unknown!' });
  assert.throws(() => new ReduceLROnPlateau(opt(), { thresholdMode: 'x' as 'rel' }), { message: 'threshold mode x is unknown!' });
  assert.throws(() => new ReduceLROnPlateau(opt()).step(), /needs the metric/);
  assert.throws(() => new LinearLR(opt(), { startFactor: 0 }), /Starting multiplicative factor/);
  assert.throws(() => new LinearLR(opt(), { endFactor: 1.5 }), /Ending multiplicative factor expected to be between 0 and 1/);
  assert.throws(() => new CosineAnnealingWarmRestarts(opt(), { t0: 0 }), { message: 'Expected positive integer T_0, but got 0' });
  assert.throws(() => new CosineAnnealingWarmRestarts(opt(), { t0: 2, tMult: 0 }), { message: 'Expected integer T_mult >= 1, but got 0' });
  assert.throws(() => new StepLR(opt(), { stepSize: 2, lastEpoch: 3 }), /param 'initial_lr' is not specified in param_groups\[0\] when resuming an optimizer/);
  const o = opt();
  const other = opt();
  const a = new LinearLR(o), b = new StepLR(other, { stepSize: 2 });
  assert.throws(() => new SequentialLR(o, { schedulers: [a, b], milestones: [2] }), /belong to the same optimizer/);
  assert.throws(() => new SequentialLR(o, { schedulers: [a], milestones: [2] }), /one more than the number of milestone points/);
  assert.throws(() => new StepLR(o, { stepSize: 2 }).loadStateDict({ lastEpoch: 1 }), TypeError);
});

test('a second scheduler on one optimizer keeps the first one\'s initial lr (setdefault)', () => {
  const o = opt(1);
  const warm = new LinearLR(o, { startFactor: 0.5 });
  assert.equal(o.paramGroups[0].lr, 0.5);
  const cos = new CosineAnnealingLR(o, { tMax: 10 });
  assert.deepEqual(cos.baseLrs, [1]);
  assert.deepEqual(warm.baseLrs, [1]);
  // The optimizer state carries it, so a scheduler may resume (lastEpoch >= 0) on a fresh optimizer.
  const fresh = opt(1);
  fresh.loadStateDict(o.stateDict());
  assert.equal(fresh.paramGroups[0].initialLr, 1);
  const resumed = new StepLR(fresh, { stepSize: 2, lastEpoch: 4 });
  assert.equal(resumed.lastEpoch, 5);
});

test('ReduceLROnPlateau state with an infinite best survives JSON', () => {
  const sched = new ReduceLROnPlateau(opt(), { mode: 'max' });
  const s = JSON.parse(JSON.stringify(sched.stateDict())) as Record<string, unknown>;
  assert.equal(s.best, '-Infinity');
  const again = new ReduceLROnPlateau(opt(), { mode: 'max' });
  again.loadStateDict(s);
  assert.deepEqual(again.stateDict(), sched.stateDict());
  assert.deepEqual(sched.getLastLr(), [0.1]);
});

test('CosineAnnealingWarmRestarts jumps to fractional epochs as PyTorch\'s step(epoch)', () => {
  const o = opt(1);
  const sched = new CosineAnnealingWarmRestarts(o, { t0: 4, tMult: 2 });
  sched.stepToEpoch(5.5);  // second cycle (length 8), 1.5 steps in
  assert.ok(Math.abs(o.paramGroups[0].lr - (1 + Math.cos(Math.PI * 1.5 / 8)) / 2) < 1e-15);
  sched.stepToEpoch(2);
  assert.ok(Math.abs(o.paramGroups[0].lr - 0.5) < 1e-15);
});
