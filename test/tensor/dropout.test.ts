// dropout / dropout2d: statistics, reproducibility from the seeded Generator, scaling, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { dropout, dropout2d } from '../../src/tensor/dropout.js';
import { native, getThreads } from '../../src/tensor/native.js';
import { Generator } from '../../src/tensor/random.js';

function keptFraction(y: Tensor): number {
  let kept = 0;
  for (const v of y.data) if (v !== 0) kept++;
  return kept / y.size;
}

test('dropout keeps about 1-p of the elements and scales them by 1/(1-p)', () => {
  const x = Tensor.ones([200, 1000]);
  for (const p of [0.1, 0.5, 0.9]) {
    const y = dropout(x, p, true, new Generator(42));
    const keep = keptFraction(y);
    // 200k Bernoulli draws: the standard deviation of the kept fraction is under 0.0012.
    assert.ok(Math.abs(keep - (1 - p)) < 0.006, `p=${p}: kept ${keep}`);
    const scale = Math.fround(1 / Math.fround(1 - p));
    assert.ok(y.data.every((v) => v === 0 || v === scale), `p=${p}: values are 0 or ${scale}`);
  }
});

test('dropout masks come from the generator: same seed, same mask; next draw, new mask', () => {
  const x = Tensor.randn([64, 33], { generator: new Generator(1) });
  const a = dropout(x, 0.3, true, new Generator(5));
  const b = dropout(x, 0.3, true, new Generator(5));
  assert.deepEqual(a.data, b.data);
  const g = new Generator(5);
  dropout(x, 0.3, true, g);
  assert.notDeepEqual(dropout(x, 0.3, true, g).data, a.data);
  assert.notDeepEqual(dropout(x, 0.3, true, new Generator(6)).data, a.data);
});

test('dropout gradient is the same mask and scale', () => {
  const x = Tensor.randn([10, 20], { generator: new Generator(2) }).requiresGrad_();
  const y = dropout(x, 0.4, true, new Generator(9));
  const gout = Tensor.randn([10, 20], { generator: new Generator(3) });
  y.backward(gout);
  for (let i = 0; i < x.size; i++) {
    const factor = y.data[i] === 0 ? 0 : y.data[i] / x.data[i];
    assert.ok(Math.abs(x.grad!.data[i] - gout.data[i] * factor) < 1e-5 * (1 + Math.abs(gout.data[i] * factor)));
  }
});

test('dropout is the identity in eval mode and for p = 0; p = 1 gives zeros', () => {
  const x = Tensor.randn([3, 4]);
  assert.equal(dropout(x, 0.5, false), x);
  assert.equal(dropout(x, 0, true), x);
  assert.equal(dropout2d(Tensor.zeros([2, 3, 4, 4]), 0.5, false).size, 96);
  const xg = Tensor.randn([3, 4]).requiresGrad_();
  const y = dropout(xg, 1, true);
  assert.ok(y.data.every((v) => v === 0));
  y.sum().backward();
  assert.ok(xg.grad!.data.every((v) => v === 0));
  assert.ok(dropout2d(Tensor.ones([2, 3, 2, 2]), 1, true).data.every((v) => v === 0));
});

test('dropout2d zeroes whole channels of 4-D and 3-D input', () => {
  for (const shape of [[20, 50, 3, 4], [30, 40, 7]]) {
    const x = Tensor.ones(shape);
    const y = dropout2d(x, 0.25, true, new Generator(11));
    const group = x.size / (shape[0] * shape[1]);
    let kept = 0;
    for (let ch = 0; ch < shape[0] * shape[1]; ch++) {
      const first = y.data[ch * group];
      for (let j = 0; j < group; j++) assert.equal(y.data[ch * group + j], first, `channel ${ch} is all-or-nothing`);
      if (first !== 0) { kept++; assert.equal(first, Math.fround(1 / 0.75)); }
    }
    const keep = kept / (shape[0] * shape[1]);
    assert.ok(Math.abs(keep - 0.75) < 0.05, `kept ${keep}`);
    assert.deepEqual(dropout2d(x, 0.25, true, new Generator(11)).data, y.data);
  }
});

test('dropout probability outside [0, 1] is a RangeError like PyTorch', () => {
  const x = Tensor.ones([4]);
  assert.throws(() => dropout(x, 1.5), { name: 'RangeError', message: 'dropout probability has to be between 0 and 1, but got 1.5' });
  assert.throws(() => dropout(x, -0.1, false), RangeError);
  assert.throws(() => dropout(x, NaN), RangeError);
  assert.throws(() => dropout2d(Tensor.ones([2, 2, 2]), 2), /between 0 and 1, but got 2/);
  assert.throws(() => dropout2d(x, 0.5), /at least 2 dimensions/);
});

test('bad native dropout calls throw instead of crashing', () => {
  const m = new Float32Array(4), t = getThreads();
  const call = (f: unknown, ...a: unknown[]) => () => (f as (...a: unknown[]) => void)(...a);
  assert.throws(call(native.dropoutMask, -1, 0.5, m, t), RangeError);
  assert.throws(call(native.dropoutMask, 2 ** 32, 0.5, m, t), RangeError);
  assert.throws(call(native.dropoutMask, 1.5, 0.5, m, t), TypeError);
  assert.throws(call(native.dropoutMask, 1, 1.5, m, t), RangeError);
  assert.throws(call(native.dropoutMask, 1, 0.5, [0, 0], t), TypeError);
  assert.throws(call(native.dropoutApply, new Float32Array(7), m, 2, new Float32Array(8), t), RangeError);
  assert.throws(call(native.dropoutApply, new Float32Array(8), m, 2, new Float32Array(7), t), RangeError);
  assert.throws(call(native.dropoutApply, new Float32Array(8), m, 0, new Float32Array(8), t), RangeError);
  assert.throws(call(native.dropoutApply, new Float32Array(8), m), TypeError);
});
