// Activations and (log-)softmax against PyTorch, finite differences and bad calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { leakyRelu, sigmoid, tanh, softmax, logSoftmax } from '../../src/tensor/activation.js';
import { native, getThreads } from '../../src/tensor/native.js';
import { Generator } from '../../src/tensor/random.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD, GRADIENT } from '../helpers/assert.js';
import { gradcheck } from '../helpers/gradcheck.js';

interface ActivationCase { op: string; shape: number[]; dim?: number; slope?: number }

function apply(p: ActivationCase, x: Tensor): Tensor {
  switch (p.op) {
    case 'leaky_relu': return leakyRelu(x, p.slope);
    case 'sigmoid': return sigmoid(x);
    case 'tanh': return tanh(x);
    case 'softmax': return softmax(x, p.dim!);
    case 'log_softmax': return logSoftmax(x, p.dim!);
  }
  throw new Error(`unknown op ${p.op}`);
}

test('activations match PyTorch forward and backward', () => {
  const cases = loadFixture<ActivationCase>('activation.safetensors');
  assert.ok(cases.length >= 30);
  const ops = new Set(cases.map((c) => c.params.op));
  assert.deepEqual([...ops].sort(), ['leaky_relu', 'log_softmax', 'sigmoid', 'softmax', 'tanh']);
  for (const { name, params, t } of cases) {
    const x = t.x.clone().requiresGrad_();
    const y = apply(params, x);
    assertClose(y, t.out, FORWARD, `${name} out`);
    y.backward(t.gout);
    assertClose(x.grad!, t.gx, GRADIENT, `${name} gx`);
  }
});

test('leakyRelu defaults to slope 0.01', () => {
  assert.deepEqual(leakyRelu(Tensor.from([-2, 3])).toArray(), [Math.fround(-0.02), 3]);
});

test('softmax rows sum to one and survive huge logits', () => {
  const x = Tensor.from([1000, 1001, 1002, -1000, 0, 1000], [2, 3]);
  const y = softmax(x, 1);
  assert.ok(y.data.every(Number.isFinite));
  assert.ok(Math.abs(y.data[0] + y.data[1] + y.data[2] - 1) < 1e-6);
  const l = logSoftmax(x, -1);
  assert.ok(l.data.every(Number.isFinite));
  assert.ok(Math.abs(l.data[2] - Math.fround(-0.40760596)) < 1e-5);
});

test('activation gradients agree with finite differences', () => {
  const g = new Generator(3);
  const x = () => Tensor.randn([2, 3, 4], { generator: g });
  gradcheck((a) => sigmoid(a), [x()], 'sigmoid');
  gradcheck((a) => tanh(a), [x()], 'tanh');
  const lr = x();
  gradcheck((a) => leakyRelu(a, 0.1), [lr], 'leakyRelu', { skip: (_i, e) => Math.abs(lr.data[e]) < 2e-2 });
  for (const dim of [0, 1, 2, -1, -3]) {
    gradcheck((a) => softmax(a, dim), [x()], `softmax dim ${dim}`);
    gradcheck((a) => logSoftmax(a, dim), [x()], `logSoftmax dim ${dim}`);
  }
});

test('softmax rejects a dim out of range like PyTorch', () => {
  const x = Tensor.zeros([2, 3]);
  assert.throws(() => softmax(x, 2), { name: 'RangeError', message: /Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)/ });
  assert.throws(() => logSoftmax(x, -3), RangeError);
  assert.throws(() => softmax(x, 0.5), RangeError);
  assert.deepEqual(softmax(Tensor.scalar(5), 0).toArray(), [1]);
});

test('bad native activation calls throw instead of crashing', () => {
  const x = new Float32Array(6), t = getThreads();
  const call = (f: unknown, ...a: unknown[]) => () => (f as (...a: unknown[]) => void)(...a);
  assert.throws(call(native.sigmoidForward, x, new Float32Array(5), t), RangeError);
  assert.throws(call(native.tanhBackward, x, x, new Float32Array(7), t), RangeError);
  assert.throws(call(native.leakyReluForward, x, x, 'a', t), TypeError);
  assert.throws(call(native.leakyReluBackward, x, x, x, 0.1, 0), RangeError);
  assert.throws(call(native.softmaxForward, { shape: [2, 3], dim: 2, log: false }, x, x, t), RangeError);
  assert.throws(call(native.softmaxForward, { shape: [2, 4], dim: 1, log: false }, x, x, t), RangeError);
  assert.throws(call(native.softmaxForward, { shape: [], dim: 0, log: false }, x, x, t), RangeError);
  assert.throws(call(native.softmaxBackward, { shape: [2, 3], dim: -1, log: true }, x, x, x, t), RangeError);
  assert.throws(call(native.softmaxBackward, { shape: [2, 3], dim: 1, log: true }, x, new Int32Array(6), x, t), TypeError);
  assert.throws(call(native.softmaxForward, x), TypeError);
});

test('softmax gives the same result on one thread and on many (parallel path)', () => {
  const g = new Generator(12);
  const shape = [16, 40, 64];
  const x = Tensor.randn(shape, { generator: g }), dy = Tensor.randn(shape, { generator: g });
  for (const dim of [1, 2]) {
    for (const log of [false, true]) {
      const run = (threads: number) => {
        const y = new Float32Array(x.size), dx = new Float32Array(x.size);
        native.softmaxForward({ shape, dim, log }, x.data, y, threads);
        native.softmaxBackward({ shape, dim, log }, y, dy.data, dx, threads);
        return [y, dx];
      };
      const serial = run(1), parallel = run(Math.max(2, getThreads()));
      assert.deepEqual(parallel, serial, `dim ${dim} log ${log}`);
    }
  }
});
