// SGD, Adam and AdamW against torch.optim (float32), state round trips, errors, bad native calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { native } from '../../src/tensor/native.js';
import { SGD, Adam, AdamW, type Optimizer, type OptimizerState } from '../../src/optim/index.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD } from '../helpers/assert.js';

interface OptimCase { kind: 'sgd' | 'adam' | 'adamw'; options: Record<string, unknown>; skip: [number, number][] }

function make(kind: string, params: Tensor[], options: Record<string, unknown>): Optimizer {
  if (kind === 'sgd') return new SGD(params, options as unknown as ConstructorParameters<typeof SGD>[1]);
  if (kind === 'adam') return new Adam(params, options);
  return new AdamW(params, options);
}

/** Row `i` of a stacked fixture tensor (steps × shape). */
function row(t: Tensor, i: number): Tensor {
  const shape = t.shape.slice(1);
  const n = t.size / t.shape[0];
  return new Tensor(t.data.slice(i * n, (i + 1) * n), shape);
}

const cases = loadFixture<OptimCase>('optim.safetensors');

test('the fixture file holds every optimizer variant', () => {
  assert.equal(cases.length, 12);
});

for (const c of cases) {
  test(`${c.name} matches torch.optim step by step`, () => {
    const params = [c.t.p0.clone().requiresGrad_(), c.t.p1.clone().requiresGrad_()];
    const opt = make(c.params.kind, params, c.params.options);
    const steps = c.t.grads0.shape[0];
    for (let s = 0; s < steps; s++) {
      const grads = [row(c.t.grads0, s), row(c.t.grads1, s)];
      params.forEach((p, i) => {
        p.grad = c.params.skip.some(([pi, si]) => pi === i && si === s) ? null : grads[i];
      });
      opt.step();
      assertClose(params[0], row(c.t.after0, s), FORWARD, `${c.name} step ${s} p0`);
      assertClose(params[1], row(c.t.after1, s), FORWARD, `${c.name} step ${s} p1`);
    }
  });
}

function randomGrads(params: Tensor[], seed: number): void {
  let x = seed;
  for (const p of params) {
    const g = new Float32Array(p.size);
    for (let i = 0; i < g.length; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      g[i] = x / 2147483648 - 0.5;
    }
    p.grad = new Tensor(g, p.shape);
  }
}

const variants: [string, (p: Tensor[]) => Optimizer][] = [
  ['SGD nesterov', (p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ['Adam amsgrad', (p) => new Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
  ['AdamW', (p) => new AdamW(p, { lr: 0.01, betas: [0.8, 0.9] })],
];

for (const [name, build] of variants) {
  test(`${name}: stateDict/loadStateDict mid-run continues identically`, () => {
    const a = [Tensor.randn([4, 3]), Tensor.randn([6])].map((t) => t.requiresGrad_());
    const optA = build(a);
    for (let s = 0; s < 3; s++) {
      randomGrads(a, s + 1);
      optA.step();
    }
    const saved: OptimizerState = optA.stateDict();
    // The JSON part must survive serialization.
    const restored: OptimizerState = { json: JSON.parse(JSON.stringify(saved.json)), tensors: saved.tensors };
    const b = a.map((t) => t.clone().requiresGrad_());
    const optB = build(b);
    optB.loadStateDict(restored);
    assert.deepEqual(optB.stateDict().json, saved.json);
    for (let s = 3; s < 6; s++) {
      randomGrads(a, s + 1);
      randomGrads(b, s + 1);
      optA.step();
      optB.step();
    }
    a.forEach((t, i) => assert.deepEqual(b[i].data, t.data, `${name} param ${i}`));
  });
}

test('stateDict names the buffers as PyTorch does and counts steps per parameter', () => {
  const p = [Tensor.randn([2, 2]).requiresGrad_(), Tensor.randn([3]).requiresGrad_()];
  const adam = new Adam(p, { amsgrad: true });
  randomGrads(p, 7);
  p[1].grad = null;
  adam.step();
  const s = adam.stateDict();
  assert.deepEqual(s.json.step, [1, 0]);
  assert.deepEqual([...s.tensors.keys()].sort(), ['0.exp_avg', '0.exp_avg_sq', '0.max_exp_avg_sq']);
  assert.deepEqual(s.json.groups[0].params, [0, 1]);
  assert.equal(s.json.groups[0].lr, 1e-3);
  assert.deepEqual(s.json.groups[0].betas, [0.9, 0.999]);
  const sgd = new SGD(p, { lr: 0.1, momentum: 0.9 });
  randomGrads(p, 3);
  sgd.step();
  assert.deepEqual([...sgd.stateDict().tensors.keys()].sort(), ['0.momentum_buffer', '1.momentum_buffer']);
  assert.deepEqual(sgd.stateDict().json.step, [0, 0]);
});

test('loadStateDict rejects states that do not fit, and leaves the optimizer untouched', () => {
  const p = [Tensor.randn([2, 2]).requiresGrad_(), Tensor.randn([3]).requiresGrad_()];
  const opt = new Adam(p);
  randomGrads(p, 1);
  opt.step();
  const good = opt.stateDict();
  const fewer = new Adam([Tensor.randn([2, 2]).requiresGrad_()]);
  assert.throws(() => fewer.loadStateDict(good), /doesn't match the size of optimizer's group/);
  const twoGroups = new Adam([{ params: [Tensor.randn([2, 2])] }, { params: [Tensor.randn([3])] }]);
  assert.throws(() => twoGroups.loadStateDict(good), /1 parameter groups but the optimizer has 2/);
  const other = new Adam([Tensor.randn([2, 2]).requiresGrad_(), Tensor.randn([4]).requiresGrad_()]);
  const before = other.stateDict();
  const bad: OptimizerState = { json: good.json, tensors: new Map(good.tensors) };
  bad.tensors.set('1.exp_avg', Tensor.zeros([3]));
  assert.throws(() => other.loadStateDict(bad), { name: 'RangeError', message: /parameter 1 has shape \[4\]/ });
  assert.deepEqual(other.stateDict().json, before.json);
  const stray: OptimizerState = { json: good.json, tensors: new Map([['7.exp_avg', Tensor.zeros([3])]]) };
  assert.throws(() => opt.loadStateDict(stray), /names no parameter/);
  assert.throws(() => opt.loadStateDict({} as OptimizerState), TypeError);
});

test('parameter groups take their own options over the defaults', () => {
  const a = Tensor.from([1, 2]).requiresGrad_(), b = Tensor.from([1, 2]).requiresGrad_();
  const opt = new SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1 });
  a.grad = Tensor.from([1, 1]);
  b.grad = Tensor.from([1, 1]);
  opt.step();
  assertClose(a.data, [0.9, 1.9], FORWARD, 'a');
  assertClose(b.data, [0, 1], FORWARD, 'b');
  opt.zeroGrad();
  assert.equal(a.grad, null);
  assert.equal(b.grad, null);
  assert.equal(opt.paramGroups[1].initialLr, 1);
});

test('bad options throw PyTorch\'s errors', () => {
  const p = () => [Tensor.zeros([2]).requiresGrad_()];
  assert.throws(() => new SGD(p(), { lr: -0.1 }), { message: 'Invalid learning rate: -0.1' });
  assert.throws(() => new SGD(p(), { lr: 0.1, momentum: -1 }), { message: 'Invalid momentum value: -1' });
  assert.throws(() => new SGD(p(), { lr: 0.1, weightDecay: -1 }), { message: 'Invalid weight_decay value: -1' });
  assert.throws(() => new SGD(p(), { lr: 0.1, nesterov: true }), { message: 'Nesterov momentum requires a momentum and zero dampening' });
  assert.throws(() => new SGD(p(), { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 }), /Nesterov momentum requires/);
  assert.throws(() => new SGD([{ params: p() }], {} as { lr: number }), /required optimization parameter lr/);
  assert.throws(() => new Adam(p(), { lr: -0.1 }), { message: 'Invalid learning rate: -0.1' });
  assert.throws(() => new Adam(p(), { eps: -1 }), { message: 'Invalid epsilon value: -1' });
  assert.throws(() => new Adam(p(), { betas: [1, 0.999] }), { message: 'Invalid beta parameter at index 0: 1' });
  assert.throws(() => new AdamW(p(), { betas: [0.9, -0.1] }), { message: 'Invalid beta parameter at index 1: -0.1' });
  assert.throws(() => new AdamW(p(), { weightDecay: -0.5 }), { message: 'Invalid weight_decay value: -0.5' });
  assert.throws(() => new Adam([]), /empty parameter list/);
  const shared = Tensor.zeros([2]);
  assert.throws(() => new Adam([{ params: [shared] }, { params: [shared] }]), /more than one parameter group/);
  const q = Tensor.zeros([2]).requiresGrad_();
  const opt = new Adam([q]);
  q.grad = Tensor.zeros([3]);
  assert.throws(() => opt.step(), /gradient of shape \[3\] does not match parameter of shape \[2\]/);
});

test('bad native calls throw TypeError/RangeError instead of crashing', () => {
  const f = (n: number) => new Float32Array(n);
  const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, newBuffer: true };
  native.sgdStep(f(4), f(4), f(4), sgd, 1);
  assert.throws(() => native.sgdStep(f(4), f(3), f(4), sgd, 1), { name: 'RangeError', message: /grad to hold 4/ });
  assert.throws(() => native.sgdStep(f(4), f(4), f(5), sgd, 1), { name: 'RangeError', message: /momentumBuffer/ });
  assert.throws(() => native.sgdStep(f(4), f(4), null, sgd, 1), { name: 'TypeError', message: /needs a momentum buffer/ });
  assert.throws(() => native.sgdStep(f(4), f(4), f(4), { ...sgd, momentum: 0 }, 1), TypeError);
  assert.throws(() => native.sgdStep(f(4), f(4), f(4), { ...sgd, lr: 'x' as unknown as number }, 1), /options.lr/);
  assert.throws(() => native.sgdStep(f(4), f(4), f(4), { ...sgd, lr: NaN }, 1), RangeError);
  const g = native.sgdStep as unknown as (...a: unknown[]) => void;
  assert.throws(() => g(f(4), f(4), f(4), null, 1), /object for options/);
  assert.throws(() => g(new Float64Array(4), f(4), f(4), sgd, 1), /Float32Array for param/);
  assert.throws(() => g(f(4), f(4), f(4), sgd), /expected 5 arguments/);
  assert.throws(() => native.sgdStep(f(4), f(4), f(4), sgd, 0), /threads/);
  const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, amsgrad: false, decoupled: false, maximize: false };
  native.adamStep(f(4), f(4), { expAvg: f(4), expAvgSq: f(4), maxExpAvgSq: null }, adam, 1);
  assert.throws(() => native.adamStep(f(4), f(4), { expAvg: f(3), expAvgSq: f(4), maxExpAvgSq: null }, adam, 1), { name: 'RangeError', message: /expAvg to hold 4/ });
  assert.throws(() => native.adamStep(f(4), f(4), { expAvg: f(4), expAvgSq: f(4), maxExpAvgSq: null }, { ...adam, amsgrad: true }, 1), { name: 'TypeError', message: /amsgrad needs/ });
  assert.throws(() => native.adamStep(f(4), f(4), { expAvg: f(4), expAvgSq: f(4), maxExpAvgSq: f(4) }, adam, 1), TypeError);
  assert.throws(() => native.adamStep(f(4), f(4), { expAvg: f(4), expAvgSq: f(4), maxExpAvgSq: null }, { ...adam, step: 0 }, 1), { name: 'RangeError', message: /step/ });
  assert.throws(() => native.adamStep(f(4), f(4), { expAvg: f(4), expAvgSq: f(4), maxExpAvgSq: null }, { ...adam, step: 1.5 }, 1), RangeError);
  assert.throws(() => native.adamStep(f(4), f(4), { expAvg: f(4), expAvgSq: f(4), maxExpAvgSq: null }, { ...adam, decoupled: 1 as unknown as boolean }, 1), /options.decoupled/);
});

test('large tensors take the threaded path and agree with one thread', () => {
  const n = 100_000;
  const param = Tensor.randn([n]), grad = Tensor.randn([n]);
  const opts = { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01, step: 3, amsgrad: true, decoupled: true, maximize: false };
  const run = (threads: number) => {
    const p = param.data.slice(), m = new Float32Array(n).fill(0.1), v = new Float32Array(n).fill(0.2), vm = new Float32Array(n).fill(0.3);
    native.adamStep(p, grad.data, { expAvg: m, expAvgSq: v, maxExpAvgSq: vm }, opts, threads);
    return p;
  };
  assert.deepEqual(run(2), run(1));
});
