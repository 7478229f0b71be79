// Gradient buckets in one process, against a world that stands in for the other rank: buckets
// in reverse parameter order, each started during backward as soon as it is full, in order,
// and finish() leaves the mean over ranks in every .grad.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { soloWorld, type World } from '../../src/dist/world.js';
import { GradientBuckets } from '../../src/dist/gradient-buckets.js';
import { Sequential } from '../../src/nn/container.js';
import { Linear } from '../../src/nn/linear.js';
import { ReLU } from '../../src/nn/activation.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { manualSeed } from '../../src/tensor/random.js';
import { assertClose } from '../helpers/assert.js';
import { SGD } from '../../src/optim/sgd.js';

/** A second rank whose gradients are all `other`: the sum adds it; records when buckets start. */
function twoRankWorld(other: number, log: string[]): World {
  const done = new Set<number>();
  let next = 0;
  return {
    ...soloWorld, size: 2,
    iallreduceSum: (buf) => {
      for (let i = 0; i < buf.length; i++) buf[i] += other;
      log.push(`start ${buf.length}`);
      return next++;
    },
    test: (h) => done.has(h),
    wait: (h) => { done.add(h); },
  };
}

function model(): Sequential {
  manualSeed(1);
  return new Sequential(new Linear({ inFeatures: 6, outFeatures: 5 }), new ReLU(), new Linear({ inFeatures: 5, outFeatures: 3 }));
}

function step(m: Sequential): void {
  const x = Tensor.randn([4, 6]);
  crossEntropy(m.call(x), Int32Array.of(0, 1, 2, 1)).backward();
}

test('buckets hold the parameters in reverse order and start while backward runs', () => {
  const log: string[] = [];
  const m = model();
  // 16 floats a bucket: the last layer's bias (3) and weight (15) do not fit together.
  const buckets = new GradientBuckets(twoRankWorld(1, log), m.parameters(), 16 * 4);
  const sizes = buckets.buckets.map((b) => b.params.map((p) => p.size));
  assert.deepEqual(sizes, [[3], [15], [5], [30]]);
  const hidden = m.parameters()[2].registerHook(() => { log.push('last layer weight'); });
  step(m);
  log.push('backward returned');
  hidden.remove();
  // Each bucket went out from inside backward, last layer first, once its gradient was in .grad
  // (after the tensor hook, which sees the gradient before it is added there).
  assert.deepEqual(log, ['start 3', 'last layer weight', 'start 15', 'start 5', 'start 30', 'backward returned']);
  buckets.finish();
  assert.equal(log.length, 6);
});

/** Two steps of `m` beside `reference`: after finish() each .grad is the mean with the other rank's
 * (this rank's + 0.5); `check` looks at each parameter too. */
function assertMeanOverTwoSteps(reference: Sequential, m: Sequential, buckets: GradientBuckets, check: (p: Tensor) => void = () => {}): void {
  for (let s = 0; s < 2; s++) {
    manualSeed(10 + s);
    step(reference);
    manualSeed(10 + s);
    step(m);
    buckets.finish();
    m.parameters().forEach((p, i) => {
      check(p);
      const expected = Float32Array.from(reference.parameters()[i].grad!.data, (g) => (g + 0.5) / 2);
      assertClose(p.grad!.data, expected, { atol: 1e-7, rtol: 0 }, `step ${s} parameter ${i}`);
    });
    for (const p of [...m.parameters(), ...reference.parameters()]) p.grad = null;
  }
}

test('finish() leaves the mean over ranks in .grad, step after step', () => {
  const reference = model();
  const m = model();
  const buckets = new GradientBuckets(twoRankWorld(0.5, []), m.parameters(), 40);
  assertMeanOverTwoSteps(reference, m, buckets);
  buckets.remove();
});

test('frozen parameters are left out; one that got no gradient here still gets the mean', () => {
  const m = model();
  const [w1, b1, w2, b2] = m.parameters();
  w1.requiresGrad_(false);
  b1.requiresGrad_(false);
  const buckets = new GradientBuckets(twoRankWorld(2, []), [w1, b1, w2, b2]);
  assert.deepEqual(buckets.buckets.map((b) => b.params.length), [2]);
  buckets.finish();
  assert.deepEqual([...w2.grad!.data], new Array(15).fill(1));
  assert.equal(w1.grad, null);
});

test('over an optimizer\'s flat storage the buckets are ranges of its gradient buffer, all-reduced in place', () => {
  const reference = model();
  const m = model();
  const flat = new SGD(m.parameters(), { lr: 0.1 }).useFlatStorage().flatStorage!;
  const log: string[] = [];
  const buckets = new GradientBuckets(twoRankWorld(0.5, log), m.parameters(), 16 * 4, flat);
  assert.deepEqual(buckets.buckets.map((b) => b.params.map((p) => p.size)), [[3], [15], [5], [30]]);
  for (const b of buckets.buckets) assert.equal(b.buffer.buffer, flat.grad.buffer);
  assertMeanOverTwoSteps(reference, m, buckets, (p) => assert.equal(p.grad!.data.buffer, flat.grad.buffer));
  assert.deepEqual(log, ['start 3', 'start 15', 'start 5', 'start 30', 'start 3', 'start 15', 'start 5', 'start 30']);
  buckets.remove();
});

for (const flat of [false, true]) {
  test(`accumulated backward passes average what .grad holds (${flat ? 'flat storage' : 'own buckets'}): the earlier passes' mean is kept`, () => {
    const reference = model();
    const m = model();
    const storage = flat ? new SGD(m.parameters(), { lr: 0.1 }).useFlatStorage().flatStorage : null;
    const buckets = new GradientBuckets(twoRankWorld(0.5, []), m.parameters(), 40, storage);
    // The other rank's .grad sums are 0.5 more than this rank's after each pass: mean(a, a + 0.5) twice.
    manualSeed(10);
    step(reference);
    const first = reference.parameters().map((p) => p.grad!.data.slice());
    for (const p of reference.parameters()) p.grad = null;
    manualSeed(11);
    step(reference);
    manualSeed(10);
    step(m);
    buckets.finish();
    manualSeed(11);
    step(m);
    buckets.finish();
    m.parameters().forEach((p, i) => {
      const expected = Float32Array.from(first[i], (g1, k) => ((g1 + 0.5) / 2 + reference.parameters()[i].grad!.data[k] + 0.5) / 2);
      assertClose(p.grad!.data, expected, { atol: 1e-6, rtol: 0 }, `parameter ${i}`);
    });
    buckets.remove();
  });
}
