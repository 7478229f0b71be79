// --class-weights and --sampler balanced: sklearn's "balanced" weights into cross-entropy's weight
// (with label smoothing, as PyTorch combines them), and WeightedRandomSampler's draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { Generator } from '../../src/tensor/random.js';
import { balancedClassWeights, classWeightsFor, parseClassWeights } from '../../src/train/class-weights.js';
import { balancedSampleWeights, weightedDraw } from '../../src/data/weighted-sampler.js';
import { loadFixture } from '../helpers/fixtures.js';
import { assertClose, FORWARD } from '../helpers/assert.js';

const fixture = loadFixture<{ numClasses: number; labelSmoothing: number }>('recipe.safetensors').find((c) => c.name === 'class_weights')!;
const ints = (t: Tensor) => Array.from(t.data, Math.round);

test('auto weights are sklearn\'s balanced ones, and the weighted, smoothed loss and gradient are PyTorch\'s', () => {
  const { t, params } = fixture;
  const weight = balancedClassWeights(ints(t.labels), params.numClasses);
  assertClose(weight, t.weight, FORWARD, 'weight');
  const logits = t.logits.clone().requiresGrad_();
  const loss = crossEntropy(logits, ints(t.target), { weight: new Tensor(weight, [params.numClasses]), labelSmoothing: params.labelSmoothing });
  assertClose(loss.reshape([1]), t.loss, FORWARD, 'loss');
  loss.backward();
  assertClose(logits.grad!, t.grad, FORWARD, 'grad');
});

test('given weights are checked against the number of classes; auto refuses a class without samples', () => {
  assert.deepEqual(parseClassWeights('1,2.5,0'), [1, 2.5, 0]);
  assert.equal(parseClassWeights('auto'), 'auto');
  for (const bad of ['1,,2', 'a,b', '-1,2', '0,0']) assert.throws(() => parseClassWeights(bad), /--class-weights/);
  assert.throws(() => classWeightsFor([1, 2], [0, 1, 2], 3), /2 weights but the model has 3 classes/);
  assert.throws(() => classWeightsFor('auto', [0, 0, 2], 3), /class 1 has no training samples/);
});

test('--sampler balanced draws each class about equally often, with replacement, the same for the same seed', () => {
  // 90 samples of class 0, 10 of class 1: weights 1/90 and 1/10.
  const labels = Array.from({ length: 100 }, (_, i) => (i < 90 ? 0 : 1));
  const weights = balancedSampleWeights(labels);
  assert.equal(weights[0], 1 / 90);
  assert.equal(weights[99], 1 / 10);
  const draws = weightedDraw(weights, 20000, new Generator(5));
  const ones = draws.filter((i) => labels[i] === 1).length / draws.length;
  assert.ok(Math.abs(ones - 0.5) < 0.02, `class 1 drawn ${ones}`);
  assert.ok(new Set(draws.slice(0, 100)).size < 100, 'with replacement');
  assert.deepEqual(weightedDraw(weights, 50, new Generator(5)), draws.slice(0, 50));
  assert.throws(() => weightedDraw([0, 0], 1, new Generator(1)), /sum to 0/);
});
