// The one home of PyTorch's output-size rules and integer-pair options (src/tensor/shape.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convOutputSize, convTransposeOutputSize, intPair } from '../../src/tensor/shape.js';

test('convOutputSize follows conv2d and pooling_output_shape', () => {
  assert.equal(convOutputSize(32, 3, 1, 1), 32);
  assert.equal(convOutputSize(32, 3, 2, 1), 16);
  assert.equal(convOutputSize(8, 3, 2, 0, 1, false), 3);
  assert.equal(convOutputSize(8, 3, 2, 0, 1, true), 4);
  // The ceil window would start in the right padding only, so it is dropped.
  assert.equal(convOutputSize(5, 2, 2, 1, 1, true), 3);
  assert.equal(convOutputSize(10, 3, 1, 1, 2), 8);
  assert.equal(convOutputSize(7, 3, 2, 0, 1, true), 3);
  assert.equal(convOutputSize(6, 3, 2, 0, 1, true), 3);
  assert.equal(convOutputSize(10, 3, 1, 0, 2), 6);
  // Per-side padding ('same' with an even kernel pads one more after).
  assert.equal(convOutputSize(7, 4, 1, [1, 2]), 7);
  assert.equal(convOutputSize(9, 3, 2, [0, 1], 2), 3);
  assert.ok(convOutputSize(2, 5, 1, 0) < 1, 'a kernel larger than the input gives no output');
});

test('convTransposeOutputSize is the conv_transpose2d formula', () => {
  assert.equal(convTransposeOutputSize(5, 3, 2, 1, 1, 1), 10);
  assert.equal(convTransposeOutputSize(4, 4, 2, 1, 0, 1), 8);
  assert.equal(convTransposeOutputSize(5, 3, 1, 2, 0, 2), 5);
});

test('intPair takes n or [h, w] of integers at least min', () => {
  assert.deepEqual(intPair(3, 'kernelSize', 1), [3, 3]);
  assert.deepEqual(intPair([2, 0], 'padding', 0), [2, 0]);
  assert.throws(() => intPair(0, 'stride', 1, 'maxPool2d'), { name: 'RangeError', message: 'maxPool2d: expected stride to be at least 1 but received (0, 0)' });
  assert.throws(() => intPair([1, 2, 3] as unknown as [number, number], 'padding', 0), TypeError);
  assert.throws(() => intPair([1.5, 2], 'kernelSize', 1), { name: 'TypeError', message: /integer or a pair of integers but received \[1.5,2\]/ });
  assert.throws(() => intPair(undefined, 'kernelSize', 1), TypeError);
});
