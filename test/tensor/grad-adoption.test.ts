// A leaf's first .grad takes the storage its backward produced instead of a copy, only when
// nothing else holds that storage: shared, passed-through, hooked and caller-given gradients are
// still copied, and gradients are the same either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { add, mul } from '../../src/tensor/ops.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { Generator } from '../../src/tensor/random.js';
import { buildModel } from '../../src/models/registry.js';

const g = new Generator(21);
const randn = (shape: number[], requiresGrad = false) => Tensor.randn(shape, { generator: g, requiresGrad });

/** Float32Array copies (slice) of at least `min` elements made while fn runs. */
function copiesDuring(fn: () => void, min: number): number {
  const slice = Float32Array.prototype.slice;
  let copies = 0;
  Float32Array.prototype.slice = function (this: Float32Array, ...args: [number?, number?]) {
    const out = slice.apply(this, args);
    if (out.length >= min) copies++;
    return out;
  };
  try {
    fn();
  } finally {
    Float32Array.prototype.slice = slice;
  }
  return copies;
}

test('a training step gives every weight its gradient without copying it, and the same gradients as the copying path', () => {
  const model = buildModel('lenet5', { numClasses: 10, inChannels: 1 });
  const other = buildModel('lenet5', { numClasses: 10, inChannels: 1 });
  other.loadStateDict(model.stateDict());
  // A hook on each of other's parameters makes every .grad a copy.
  for (const p of other.parameters()) p.registerHook(() => {});
  const x = randn([4, 1, 28, 28]), y = Int32Array.of(1, 2, 3, 4);
  const smallest = Math.min(...model.parameters().map((p) => p.size));
  assert.equal(copiesDuring(() => crossEntropy(model.call(x), y).backward(), smallest), 0);
  assert.equal(copiesDuring(() => crossEntropy(other.call(x), y).backward(), smallest), other.parameters().length);
  const a = model.parameters(), b = other.parameters();
  a.forEach((p, i) => assert.deepEqual(p.grad!.data, b[i].grad!.data, `parameter ${i}`));
  assert.equal(new Set(a.map((p) => p.grad!.data)).size, a.length, 'two parameters share gradient storage');
});

test('one gradient handed to two leaves (a + b) is copied for each: their .grad never share storage', () => {
  const a = randn([3, 4], true), b = randn([3, 4], true);
  add(a, b).backward(Tensor.ones([3, 4]));
  assert.notEqual(a.grad!.data, b.grad!.data);
  a.grad!.data[0] = 42;
  assert.equal(b.grad!.data[0], 1);
});

test('a gradient a hook replaced, or one the caller gave, stays the hook\'s and the caller\'s own', () => {
  // The hook's replacement reaches the leaf through a reshape (a view of it): it must be copied.
  const leaf = randn([12], true);
  const mid = leaf.reshape([3, 4]);
  const replacement = randn([3, 4]);
  mid.registerHook(() => replacement);
  mul(mid, Tensor.scalar(2)).sum().backward();
  assert.notEqual(leaf.grad!.data, replacement.data);
  assert.deepEqual(leaf.grad!.data, replacement.data);
  // The caller's gradient, passed through to a leaf.
  const given = randn([12]);
  const other = randn([12], true);
  other.reshape([3, 4]).reshape([12]).backward(given);
  assert.notEqual(other.grad!.data, given.data);
  assert.deepEqual(other.grad!.data, given.data);
});

test('gradients still accumulate across backward calls', () => {
  const w = randn([5], true);
  mul(w, Tensor.full([5], 2)).sum().backward();
  mul(w, Tensor.full([5], 3)).sum().backward();
  assert.deepEqual(Array.from(w.grad!.data), [5, 5, 5, 5, 5]);
});
