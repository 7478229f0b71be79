import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, allFinite, firstNonFinite } from '../../src/tensor/index.js';
import { native } from '../../src/tensor/native.js';

test('firstNonFinite names the first array holding NaN or an infinity', () => {
  const big = () => new Float32Array(300_001).fill(1);
  const arrays: Float32Array[] = [new Float32Array(0), big(), Float32Array.of(2, 3), big()];
  assert.equal(firstNonFinite(arrays), -1);
  assert.equal(allFinite(arrays), true);
  assert.equal(firstNonFinite([]), -1);
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (const [a, i] of [[1, 0], [1, 65_536], [1, 300_000], [2, 1], [3, 123_457]]) {
      arrays[a][i] = bad;
      assert.equal(firstNonFinite(arrays), a, `${bad} in array ${a} at ${i}`);
      arrays[3][7] = NaN;  // a later bad array does not change the answer
      assert.equal(firstNonFinite(arrays), a);
      arrays[3][7] = 1;
      arrays[a][i] = 1;
    }
  }
  assert.equal(allFinite([Tensor.ones([2, 3]), Float32Array.of(3.4e38, -3.4e38)]), true);
  assert.equal(allFinite([Tensor.ones([2, 3]), Tensor.full([4], NaN)]), false);
});

test('firstNonFinite checks its arguments', () => {
  const f = native.firstNonFinite as unknown as (...a: unknown[]) => number;
  assert.throws(() => f([new Float32Array(2), new Float64Array(2)], 1), { name: 'TypeError', message: /Float32Array for arrays\[1\]/ });
  assert.throws(() => f(new Float32Array(2), 1), TypeError);
  assert.throws(() => f([], 0), /threads/);
});
