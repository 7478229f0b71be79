// Steady-state training steps: inside StepBuffers a step takes its activations and gradients
// from what the step before gave back, so after the first step no tensor storage is allocated,
// and the losses and weights are bit for bit those of the allocating path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/tensor.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { StepBuffers, storageAllocations, emptyFloat32 } from '../../src/tensor/storage.js';
import { buildModel } from '../../src/models/registry.js';
import { SGD, Adam, AdamW, type Optimizer } from '../../src/optim/index.js';
import type { Module } from '../../src/nn/module.js';

interface Case { model: string; input: [number, number, number]; batch: number }
const CASES: Case[] = [
  { model: 'simplecnn', input: [3, 32, 32], batch: 4 },
  { model: 'resnet18', input: [3, 16, 16], batch: 2 },
  { model: 'mobilenet_v2', input: [3, 32, 32], batch: 2 },
];
const OPTIMIZERS: Record<string, (m: Module) => Optimizer> = {
  sgd: (m) => new SGD(m.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4, nesterov: true }),
  adam: (m) => new Adam(m.parameters(), { lr: 1e-3, weightDecay: 1e-4 }),
  adamw: (m) => new AdamW(m.parameters(), { lr: 1e-3 }),
};

/** Trains `steps` steps from seed 0 (recycling or not): each step's loss and storage allocations, and the weights. */
function train(c: Case, optimizer: string, steps: number, recycle: boolean) {
  manualSeed(0);
  const model = buildModel(c.model, { numClasses: 10, inChannels: c.input[0], ...(c.model.startsWith('resnet') ? { stem: 'cifar' as const } : {}) });
  model.train();
  const g = new Generator(0);
  const x = Tensor.randn([c.batch, ...c.input], { generator: g });
  const y = Int32Array.from({ length: c.batch }, () => g.randint(10));
  const opt = OPTIMIZERS[optimizer](model);
  const buffers = new StepBuffers();
  const losses: number[] = [], allocations: number[] = [];
  for (let s = 0; s < steps; s++) {
    const before = storageAllocations().count;
    if (recycle) buffers.begin();
    try {
      const loss = crossEntropy(model.call(x), y);
      losses.push(loss.item());
      opt.zeroGrad();
      loss.backward();
      opt.step();
    } finally {
      if (recycle) buffers.end();
    }
    allocations.push(storageAllocations().count - before);
  }
  return { losses, allocations, weights: model.parameters().map((p) => p.data) };
}

for (const c of CASES) {
  for (const optimizer of Object.keys(OPTIMIZERS)) {
    test(`${c.model} ${c.input.join('x')} b${c.batch} with ${optimizer}: no storage allocated after step 2, the same losses and weights as allocating`, () => {
      const recycled = train(c, optimizer, 4, true);
      const plain = train(c, optimizer, 4, false);
      assert.ok(plain.allocations.every((n) => n > 0), `allocating path: ${plain.allocations}`);
      assert.ok(recycled.allocations[0] > 0);
      assert.deepEqual(recycled.allocations.slice(1), [0, 0, 0]);
      assert.deepEqual(recycled.losses, plain.losses);
      recycled.weights.forEach((w, i) => assert.deepEqual(w, plain.weights[i], `parameter ${i}`));
    });
  }
}

test('the backward walk hands consumed gradients back: a step takes fewer buffers than it would keep', () => {
  const c = CASES[1];
  // The first recycled step allocates what it holds at once; the allocating path every buffer it writes.
  const recycled = train(c, 'sgd', 1, true), plain = train(c, 'sgd', 1, false);
  assert.ok(recycled.allocations[0] < plain.allocations[0], `${recycled.allocations[0]} vs ${plain.allocations[0]}`);
});

test('buffers of a length the last two steps did not take are dropped, and begin() twice is refused', () => {
  const buffers = new StepBuffers();
  const step = (fn: () => void) => {
    buffers.begin();
    try {
      fn();
    } finally {
      buffers.end();
    }
  };
  let a: Float32Array = new Float32Array(0);
  step(() => { a = emptyFloat32(100); });
  step(() => {
    assert.equal(emptyFloat32(100), a, 'the same length is lent again');
    assert.throws(() => new StepBuffers().begin(), /already recycling/);
  });
  // An epoch's last, smaller batch: the full batch's buffers wait for the next epoch's first step.
  step(() => emptyFloat32(7));
  step(() => assert.equal(emptyFloat32(100), a));
  step(() => emptyFloat32(7));
  step(() => emptyFloat32(7));
  const before = storageAllocations().count;
  step(() => assert.notEqual(emptyFloat32(100), a, 'length 100 was not taken in the two steps before: dropped'));
  assert.equal(storageAllocations().count, before + 1);
  // Outside a step nothing is recycled.
  assert.notEqual(emptyFloat32(7), emptyFloat32(7));
});
