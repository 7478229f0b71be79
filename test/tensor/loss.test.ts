// crossEntropy / nllLoss against PyTorch, finite differences, top-k accuracy and bad calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { crossEntropy, nllLoss, accuracyTopK, type Reduction } from '../../src/tensor/loss.js';
import { native, getThreads } from '../../src/tensor/native.js';
import { Generator } from '../../src/tensor/random.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD, GRADIENT } from '../helpers/assert.js';
import { gradcheck } from '../helpers/gradcheck.js';

interface LossCase {
  op: 'cross_entropy' | 'nll_loss'; n: number; c: number; target: number[]; labelSmoothing: number;
  reduction: Reduction; ignoreIndex: number; weighted: boolean;
}

test('crossEntropy and nllLoss match PyTorch (weights, label smoothing, ignoreIndex, reductions)', () => {
  const cases = loadFixture<LossCase>('loss.safetensors');
  assert.ok(cases.length >= 20);
  for (const { name, params: p, t } of cases) {
    const logits = t.logits.clone().requiresGrad_();
    const o = { weight: p.weighted ? t.weight : undefined, reduction: p.reduction, ignoreIndex: p.ignoreIndex };
    const out = p.op === 'cross_entropy'
      ? crossEntropy(logits, Int32Array.from(p.target), { ...o, labelSmoothing: p.labelSmoothing })
      : nllLoss(logits, p.target, o);
    assertClose(out, t.out, FORWARD, `${name} out`);
    out.backward(t.gout);
    assertClose(logits.grad!, t.glogits, GRADIENT, `${name} glogits`);
  }
});

test('crossEntropy defaults: mean reduction, ignoreIndex -100, no smoothing', () => {
  const logits = Tensor.from([0, 0, Math.log(3), 0], [2, 2]);
  // row 0: uniform → log 2; row 1: p(0) = 3/4 → -log(3/4); row with -100 is ignored.
  const want = (Math.log(2) - Math.log(0.75)) / 2;
  assert.ok(Math.abs(crossEntropy(logits, [0, 0]).item() - want) < 1e-6);
  const three = Tensor.from([0, 0, Math.log(3), 0, 5, 1], [3, 2]);
  assert.ok(Math.abs(crossEntropy(three, [0, 0, -100]).item() - want) < 1e-6);
  assert.ok(Number.isNaN(crossEntropy(Tensor.zeros([2, 3]), [-100, -100]).item()), 'all ignored → NaN as PyTorch');
});

test('crossEntropy gradient agrees with finite differences', () => {
  const g = new Generator(4);
  const w = Tensor.rand([5], { generator: g, low: 0.5, high: 1.5 });
  for (const labelSmoothing of [0, 0.2]) {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const x = Tensor.randn([6, 5], { generator: g });
      gradcheck((a) => crossEntropy(a, [1, 0, 4, -100, 2, 2], { weight: w, labelSmoothing, reduction }), [x],
        `crossEntropy ls=${labelSmoothing} ${reduction}`);
    }
  }
});

test('crossEntropy stays finite for huge logits', () => {
  const x = Tensor.from([1e4, -1e4, 0, 3e4, 3e4, -3e4], [2, 3]).requiresGrad_();
  const loss = crossEntropy(x, [1, 0], { labelSmoothing: 0.1 });
  assert.ok(Number.isFinite(loss.item()));
  loss.backward();
  assert.ok(x.grad!.data.every(Number.isFinite));
});

test('crossEntropy argument errors follow PyTorch', () => {
  const x = Tensor.zeros([3, 4]);
  assert.throws(() => crossEntropy(x, [0, 4, 1]), { name: 'RangeError', message: /Target 4 is out of bounds/ });
  assert.throws(() => crossEntropy(x, [0, -1, 1]), /Target -1 is out of bounds/);
  assert.throws(() => crossEntropy(x, [0, 1.5, 1]), RangeError);
  assert.throws(() => crossEntropy(x, [0, 1]), /batch_size \(3\) to match target batch_size \(2\)/);
  assert.throws(() => crossEntropy(Tensor.zeros([3]), [0, 1, 2]), RangeError);
  assert.throws(() => crossEntropy(x, [0, 1, 2], { weight: Tensor.ones([3]) }), /weight tensor should be defined/);
  assert.throws(() => crossEntropy(x, [0, 1, 2], { labelSmoothing: 1.5 }), /label_smoothing must be between/);
  assert.throws(() => crossEntropy(x, [0, 1, 2], { reduction: 'avg' as Reduction }), /not a valid value for reduction/);
  assert.equal(crossEntropy(x, [0, 7, 1], { ignoreIndex: 7, reduction: 'none' }).data[1], 0);
});

test('accuracyTopK counts rows whose target is among the k largest logits', () => {
  const logits = Tensor.from([
    0.1, 0.5, 0.2, 0.9, // ranking: 3, 1, 2, 0
    3, 2, 1, 0,         // ranking: 0, 1, 2, 3
    1, 1, 0, 0,         // tie between 0 and 1
  ], [3, 4]);
  const target = [1, 0, 1];
  assert.equal(accuracyTopK(logits, target, 1), 2);
  assert.equal(accuracyTopK(logits, target, 2), 3);
  // Row 2: class 3 ties with class 2 for third place, and ties count for the target.
  assert.equal(accuracyTopK(logits, [0, 3, 3], 3), 1);
  assert.equal(accuracyTopK(logits, [0, 3, 3], 2), 0);
  assert.equal(accuracyTopK(logits, [0, 3, 3], 4), 3);
  assert.throws(() => accuracyTopK(logits, target, 5), RangeError);
  assert.throws(() => accuracyTopK(logits, target, 0), RangeError);
  assert.throws(() => accuracyTopK(logits, [0, 4, 1], 1), /Target 4 is out of bounds/);
  assert.throws(() => accuracyTopK(logits, [0, 1], 1), RangeError);
});

test('bad native loss calls throw instead of crashing', () => {
  const x = new Float32Array(12), t = getThreads(), one = new Float32Array(1), lse = new Float32Array(3);
  const tg = Int32Array.from([0, 1, 2]);
  const p = { input: x, n: 3, c: 4, target: tg, weight: null, labelSmoothing: 0, ignoreIndex: -100, reduction: 1 };
  const call = (f: unknown, ...a: unknown[]) => () => (f as (...a: unknown[]) => void)(...a);
  assert.throws(call(native.crossEntropyForward, { ...p, target: Int32Array.from([0, 9, 1]) }, one, lse, t), /target 9 at index 1 is out of bounds/);
  assert.throws(call(native.crossEntropyForward, { ...p, target: [0, 1, 2] }, one, lse, t), { name: 'TypeError', message: /Int32Array for params.target/ });
  assert.throws(call(native.crossEntropyForward, { ...p, target: Int32Array.from([0, 1]) }, one, lse, t), RangeError);
  assert.throws(call(native.crossEntropyForward, { ...p, n: 4 }, one, lse, t), /params.input to hold 16/);
  assert.throws(call(native.crossEntropyForward, { ...p, weight: new Float32Array(3) }, one, lse, t), /params.weight to hold 4/);
  assert.throws(call(native.crossEntropyForward, { ...p, labelSmoothing: 2 }, one, lse, t), /params.labelSmoothing/);
  assert.throws(call(native.crossEntropyForward, { ...p, reduction: 3 }, one, lse, t), RangeError);
  assert.throws(call(native.crossEntropyForward, { ...p, reduction: 0 }, one, lse, t), /out to hold 3/);
  assert.throws(call(native.crossEntropyForward, { ...p, n: undefined }, one, lse, t), /number for params.n/);
  assert.throws(call(native.crossEntropyForward, null, one, lse, t), /object for params/);
  assert.throws(call(native.crossEntropyBackward, p, lse, one, new Float32Array(11), t), RangeError);
  assert.throws(call(native.nllLossForward, p), /expected 2 arguments/);
  assert.throws(call(native.nllLossBackward, { ...p, reduction: 2 }, new Float32Array(3), x), RangeError);
  assert.throws(call(native.accuracyTopK, x, 3, 4, tg, 5, t), RangeError);
  assert.throws(call(native.accuracyTopK, x, 3, 4, Int32Array.from([0, -100, 1]), 1, t), RangeError);
});

test('crossEntropy agrees on one thread and on many (parallel path)', () => {
  const g = new Generator(21);
  const n = 256, c = 200;
  const x = Tensor.randn([n, c], { generator: g });
  const target = Int32Array.from({ length: n }, (_, i) => (i % 17 === 0 ? -100 : g.randint(c)));
  const w = Tensor.rand([c], { generator: g, low: 0.5, high: 1.5 });
  const run = (threads: number) => {
    const out = new Float32Array(1), lse = new Float32Array(n), dx = new Float32Array(n * c);
    const p = { input: x.data, n, c, target, weight: w.data, labelSmoothing: 0.1, ignoreIndex: -100, reduction: 1 };
    native.crossEntropyForward(p, out, lse, threads);
    native.crossEntropyBackward(p, lse, Float32Array.of(1), dx, threads);
    return { out, dx, top5: native.accuracyTopK(x.data, n, c, target.map((v) => Math.max(v, 0)), 5, threads) };
  };
  const serial = run(1), parallel = run(Math.max(2, getThreads()));
  assertClose(parallel.out, serial.out, FORWARD, 'loss');
  assert.deepEqual(parallel.dx, serial.dx);
  assert.equal(parallel.top5, serial.top5);
});
