// batchNorm against PyTorch 1.13 (test/fixtures/norm.safetensors), finite differences and bad calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { batchNorm } from '../../src/tensor/norm.js';
import { native, getThreads } from '../../src/tensor/native.js';
import { Generator } from '../../src/tensor/random.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD, GRADIENT } from '../helpers/assert.js';
import { gradcheck } from '../helpers/gradcheck.js';

interface NormCase {
  shape: number[]; affine: boolean; training: boolean; runningStats: boolean; momentum: number; eps: number;
}

test('batchNorm forward, gradients and running stats match PyTorch', () => {
  const cases = loadFixture<NormCase>('norm.safetensors');
  assert.ok(cases.length >= 12);
  for (const { name, params: p, t } of cases) {
    const x = t.x.clone().requiresGrad_();
    const w = p.affine ? t.weight.clone().requiresGrad_() : null;
    const b = p.affine ? t.bias.clone().requiresGrad_() : null;
    const runningMean = p.runningStats ? t.runningMean.clone() : null;
    const runningVar = p.runningStats ? t.runningVar.clone() : null;
    const y = batchNorm(x, w, b, { runningMean, runningVar, training: p.training, momentum: p.momentum, eps: p.eps });
    assertClose(y, t.y, FORWARD, `${name} y`);
    if (runningMean && runningVar) {
      assertClose(runningMean, t.runningMeanAfter, FORWARD, `${name} runningMean`);
      assertClose(runningVar, t.runningVarAfter, FORWARD, `${name} runningVar`);
    }
    y.backward(t.gy);
    assertClose(x.grad!, t.gx, GRADIENT, `${name} gx`);
    if (w && b) {
      assertClose(w.grad!, t.gweight, GRADIENT, `${name} gweight`);
      assertClose(b.grad!, t.gbias, GRADIENT, `${name} gbias`);
    }
  }
});

test('batchNorm eval leaves the running stats alone', () => {
  const g = new Generator(1);
  const rm = Tensor.randn([3], { generator: g }), rv = Tensor.rand([3], { generator: g, low: 0.5, high: 1.5 });
  const before = [rm.toArray(), rv.toArray()];
  batchNorm(Tensor.randn([4, 3, 2, 2], { generator: g }), null, null,
    { runningMean: rm, runningVar: rv, training: false, momentum: 0.1, eps: 1e-5 });
  assert.deepEqual([rm.toArray(), rv.toArray()], before);
});

test('batchNorm gradients agree with finite differences (training and eval)', () => {
  for (const training of [true, false]) {
    for (const shape of [[5, 3], [3, 2, 4], [2, 3, 3, 2]]) {
      const g = new Generator(shape.length + (training ? 10 : 0));
      const c = shape[1];
      const x = Tensor.randn(shape, { generator: g });
      const w = Tensor.rand([c], { generator: g, low: 0.5, high: 1.5 });
      const b = Tensor.randn([c], { generator: g });
      const stats = () => ({
        runningMean: training ? null : Tensor.full([c], 0.2), runningVar: training ? null : Tensor.full([c], 0.7),
        training, momentum: 0.1, eps: 1e-5,
      });
      gradcheck((xi, wi, bi) => batchNorm(xi, wi, bi, stats()), [x, w, b],
        `batchNorm ${training ? 'train' : 'eval'} [${shape.join(',')}]`, { eps: 1e-2, atol: 3e-3, rtol: 3e-2 });
    }
  }
});

test('batchNorm refuses one value per channel in training, like PyTorch', () => {
  const opts = { runningMean: null, runningVar: null, training: true, momentum: 0.1, eps: 1e-5 };
  assert.throws(() => batchNorm(Tensor.zeros([1, 3]), null, null, opts),
    { name: 'RangeError', message: 'Expected more than 1 value per channel when training, got input size [1, 3]' });
  assert.throws(() => batchNorm(Tensor.zeros([1, 3, 1, 1]), null, null, opts), /more than 1 value per channel/);
  // Eval with one value is fine.
  const y = batchNorm(Tensor.full([1, 2], 3), null, null,
    { runningMean: Tensor.full([2], 1), runningVar: Tensor.full([2], 4), training: false, momentum: 0.1, eps: 0 });
  assert.deepEqual(y.toArray(), [1, 1]);
});

test('batchNorm rejects mismatched arguments', () => {
  const base = { runningMean: null, runningVar: null, training: true, momentum: 0.1, eps: 1e-5 };
  const x = Tensor.randn([4, 3]);
  assert.throws(() => batchNorm(Tensor.zeros([4]), null, null, base), RangeError);
  assert.throws(() => batchNorm(x, Tensor.ones([4]), null, base), /weight of shape \[4\] does not match 3 channels/);
  assert.throws(() => batchNorm(x, null, Tensor.ones([2]), base), RangeError);
  assert.throws(() => batchNorm(x, null, null, { ...base, runningMean: Tensor.zeros([3]) }), TypeError);
  assert.throws(() => batchNorm(x, null, null, { ...base, training: false }), /running_mean must be defined/);
  assert.throws(() => batchNorm(x, null, null, { ...base, eps: -1 }), RangeError);
});

test('bad native batchNorm calls throw instead of crashing', () => {
  const x = new Float32Array(12), c3 = new Float32Array(3), t = getThreads();
  const fwd = native.batchNormForward as unknown as (...a: unknown[]) => void;
  const bwd = native.batchNormBackward as unknown as (...a: unknown[]) => void;
  const f = { x, shape: [4, 3], weight: null, bias: null, runningMean: null, runningVar: null, training: true,
    momentum: 0.1, eps: 1e-5, y: x, saveMean: c3, saveInvstd: c3 };
  fwd(f, t);
  assert.throws(() => fwd({ ...f, y: new Float32Array(11) }, t), { name: 'RangeError', message: /call.y to hold 12/ });
  assert.throws(() => fwd({ ...f, shape: [5, 3] }, t), RangeError);
  assert.throws(() => fwd({ ...f, weight: new Float32Array(2) }, t), /call.weight to hold 3/);
  assert.throws(() => fwd({ ...f, runningMean: c3 }, t), TypeError);
  assert.throws(() => fwd({ ...f, training: false }, t), TypeError);
  assert.throws(() => fwd({ ...f, shape: [12] }, t), RangeError);
  assert.throws(() => fwd({ ...f, shape: [1, 12], saveMean: new Float32Array(12), saveInvstd: new Float32Array(12) }, t), RangeError);
  assert.throws(() => fwd({ ...f, x: [1, 2] }, t), { name: 'TypeError', message: /Float32Array for call.x/ });
  assert.throws(() => fwd({ ...f, eps: -1 }, t), /call.eps/);
  assert.throws(() => fwd({ ...f, momentum: NaN }, t), /call.momentum is NaN/);
  assert.throws(() => fwd(f), /expected 2 arguments/);
  assert.throws(() => fwd(x, t), /object for call/);
  const b = { x, dy: x, shape: [4, 3], weight: null, saveMean: c3, saveInvstd: c3, training: true, dx: x, dweight: null, dbias: null };
  bwd(b, t);
  assert.throws(() => bwd({ ...b, weight: new Float32Array(2) }, t), { name: 'RangeError', message: /call.weight to hold 3/ });
  assert.throws(() => bwd({ ...b, saveInvstd: new Float32Array(2) }, t), RangeError);
  assert.throws(() => bwd({ ...b, dy: new Float32Array(3) }, t), RangeError);
  assert.throws(() => bwd({ ...b, training: 'yes' }, t), TypeError);
});

test('batchNorm gives the same result on one thread and on many (parallel path)', () => {
  const g = new Generator(8);
  const shape = [8, 16, 12, 12], c = 16;
  const x = Tensor.randn(shape, { generator: g }), dy = Tensor.randn(shape, { generator: g });
  const w = Tensor.rand([c], { generator: g }), b = Tensor.randn([c], { generator: g });
  const run = (threads: number) => {
    const y = new Float32Array(x.size), m = new Float32Array(c), s = new Float32Array(c);
    const rm = new Float32Array(c), rv = new Float32Array(c).fill(1);
    native.batchNormForward({ x: x.data, shape, weight: w.data, bias: b.data, runningMean: rm, runningVar: rv,
      training: true, momentum: 0.1, eps: 1e-5, y, saveMean: m, saveInvstd: s }, threads);
    const dx = new Float32Array(x.size), dw = new Float32Array(c), db = new Float32Array(c);
    native.batchNormBackward({ x: x.data, dy: dy.data, shape, weight: w.data, saveMean: m, saveInvstd: s,
      training: true, dx, dweight: dw, dbias: db }, threads);
    return [y, rm, rv, dx, dw, db];
  };
  const serial = run(1), parallel = run(Math.max(2, getThreads()));
  serial.forEach((a, i) => assert.deepEqual(parallel[i], a, `output ${i}`));
});
