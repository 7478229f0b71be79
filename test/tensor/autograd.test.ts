import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, noGrad, isGradEnabled } from '../../src/tensor/tensor.js';
import * as ops from '../../src/tensor/ops.js';
import { Generator, manualSeed, defaultGenerator } from '../../src/tensor/random.js';

test('gradients accumulate across backward calls, as in PyTorch', () => {
  const x = Tensor.from([1, 2, 3]).requiresGrad_();
  ops.sum(ops.mul(x, x)).backward();
  assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
  ops.sum(ops.mul(x, x)).backward();
  assert.deepEqual(x.grad!.toArray(), [4, 8, 12]);
});

test('a tensor used twice receives the sum of both paths', () => {
  const x = Tensor.from([3]).requiresGrad_();
  const y = ops.add(ops.mul(x, x), x); // x² + x → 2x + 1
  y.backward();
  assert.deepEqual(x.grad!.toArray(), [7]);
});

test('noGrad records nothing and restores the previous mode, even on throw', () => {
  const x = Tensor.from([1, 2]).requiresGrad_();
  const y = noGrad(() => ops.mul(x, x));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
  assert.equal(isGradEnabled(), true);
});

test('non-leaf gradients are kept only with retainGrad', () => {
  const x = Tensor.from([1, -2]).requiresGrad_();
  const h = ops.mulScalar(x, 3);
  const k = ops.mulScalar(x, 2);
  h.retainGrad();
  ops.sum(ops.add(h, k)).backward();
  assert.deepEqual(h.grad!.toArray(), [1, 1]);
  assert.equal(k.grad, null);
  assert.deepEqual(x.grad!.toArray(), [5, 5]);
});

test('tensor hooks see the gradient, can replace it, and can be removed', () => {
  const x = Tensor.from([1, 2]).requiresGrad_();
  const h = ops.mulScalar(x, 2);
  const seen: number[][] = [];
  const handle = h.registerHook((g) => { seen.push(g.toArray()); return ops.mulScalar(g, 10); });
  ops.sum(h).backward();
  assert.deepEqual(seen, [[1, 1]]);
  assert.deepEqual(x.grad!.toArray(), [20, 20]);
  handle.remove();
  x.grad = null;
  ops.sum(ops.mulScalar(x, 2)).backward();
  ops.sum(h).backward();
  assert.deepEqual(x.grad!.toArray(), [4, 4]);
  assert.equal(seen.length, 1);
});

test('backward errors: no grad, non-scalar without gradient, wrong gradient shape', () => {
  assert.throws(() => Tensor.from([1]).backward(), /does not require grad/);
  const x = Tensor.from([1, 2]).requiresGrad_();
  assert.throws(() => ops.mulScalar(x, 2).backward(), /scalar outputs/);
  assert.throws(() => ops.mulScalar(x, 2).backward(Tensor.from([1, 2, 3])), /does not match/);
});

test('reshape is a view with -1 inference and clear errors', () => {
  const x = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
  const y = x.reshape([3, -1]);
  assert.deepEqual([...y.shape], [3, 2]);
  assert.equal(y.data, x.data);
  assert.throws(() => x.reshape([4, -1]), /invalid for input of size 6/);
  assert.throws(() => x.reshape([-1, -1]), /only one dimension/);
});

test('shape errors name both shapes', () => {
  assert.throws(() => ops.add(Tensor.zeros([2, 3]), Tensor.zeros([4])), /\[2, 3\] and \[4\] cannot be broadcast/);
  assert.throws(() => ops.matmul(Tensor.zeros([2, 3]), Tensor.zeros([2, 3])), /cannot be multiplied/);
  assert.throws(() => ops.conv2d(Tensor.zeros([1, 3, 5, 5]), Tensor.zeros([4, 2, 3, 3]), null), /expects 2 input channels/);
  assert.throws(() => ops.conv2d(Tensor.zeros([1, 3, 2, 2]), Tensor.zeros([4, 3, 3, 3]), null), /larger than the padded input/);
  assert.throws(() => new Tensor(new Float32Array(3), [2, 2]), /needs 4 elements/);
});

test('the seeded generator reproduces and its state round-trips through JSON', () => {
  manualSeed(5);
  const a = Tensor.randn([100]).toArray();
  manualSeed(5);
  assert.deepEqual(Tensor.randn([100]).toArray(), a);
  const g = new Generator(9);
  g.normal();
  const state = JSON.parse(JSON.stringify(g.getState()));
  const next = [g.normal(), g.random(), g.nextUint32()];
  const h = new Generator(0);
  h.setState(state);
  assert.deepEqual([h.normal(), h.random(), h.nextUint32()], next);
  const u = Tensor.rand([10000], { generator: new Generator(1) });
  const mean = u.data.reduce((s, v) => s + v, 0) / u.size;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `uniform mean ${mean}`);
  const n = Tensor.randn([10000], { generator: new Generator(2) });
  const nm = n.data.reduce((s, v) => s + v, 0) / n.size;
  const nv = n.data.reduce((s, v) => s + (v - nm) ** 2, 0) / n.size;
  assert.ok(Math.abs(nm) < 0.05 && Math.abs(nv - 1) < 0.05, `normal mean ${nm} var ${nv}`);
  assert.notDeepEqual(Tensor.randn([5], { generator: defaultGenerator }).toArray(), Tensor.randn([5], { generator: defaultGenerator }).toArray());
});

test('registerPostAccumulateGradHook: runs after each backward has added into .grad, leaves only, removable', () => {
  const w = Tensor.from([1, 2, 3], [3], true);
  const seen: number[][] = [];
  const handle = w.registerPostAccumulateGradHook((leaf) => seen.push([...leaf.grad!.data]));
  w.mul(Tensor.from([2, 2, 2])).sum().backward();
  w.mul(Tensor.from([1, 1, 1])).sum().backward();
  assert.deepEqual(seen, [[2, 2, 2], [3, 3, 3]]);
  handle.remove();
  w.sum().backward();
  assert.equal(seen.length, 2);
  assert.throws(() => w.mul(w).registerPostAccumulateGradHook(() => {}), /non-leaf/);
});
