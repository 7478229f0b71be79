// Steady-state forward passes: eval, validation and predict run each batch inside StepBuffers,
// so after the first batch no tensor storage is allocated, and what leaves a pass (logits copied
// out, metrics, probabilities) is bit for bit what the allocating path gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { Tensor, noGrad } from '../../src/tensor/tensor.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { crossEntropy, accuracyTopK } from '../../src/tensor/loss.js';
import { StepBuffers, storageAllocations, emptyFloat32, recyclingBuffers, setPoisonEmpty } from '../../src/tensor/storage.js';
import { buildModel } from '../../src/models/registry.js';
import { DataLoader } from '../../src/data/loader.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { evaluate } from '../../src/train/evaluate.js';
import { predictions } from '../../src/train/metrics.js';
import { predictFile } from '../../src/train/predict.js';
import { scratchDir } from '../helpers/tmp.js';

interface Case { model: string; input: [number, number, number]; batch: number }
const CASES: Case[] = [
  { model: 'lenet5', input: [1, 28, 28], batch: 3 },
  { model: 'simplecnn', input: [3, 32, 32], batch: 4 },
  { model: 'resnet18', input: [3, 32, 32], batch: 2 },
  { model: 'mobilenet_v2', input: [3, 32, 32], batch: 2 },
];

function evalModel(c: Case) {
  manualSeed(0);
  return buildModel(c.model, { numClasses: 10, inChannels: c.input[0] }).eval();
}

/** Eval forward passes over `steps` different batches: each pass's logits (copied out) and storage allocations. */
function forwardSteps(c: Case, steps: number, recycle: boolean) {
  const model = evalModel(c);
  const g = new Generator(1);
  const buffers = new StepBuffers();
  const logits: Float32Array[] = [], allocations: number[] = [];
  for (let s = 0; s < steps; s++) {
    const x = Tensor.randn([c.batch, ...c.input], { generator: g });
    const before = storageAllocations().count;
    const pass = () => noGrad(() => model.call(x).data.slice());
    logits.push(recycle ? buffers.step(pass) : pass());
    allocations.push(storageAllocations().count - before);
  }
  return { logits, allocations };
}

for (const c of CASES) {
  test(`${c.model} ${c.input.join('x')} b${c.batch} eval: no storage allocated after the first pass, logits bit-identical to allocating`, () => {
    // Poisoned storage: a kernel that read a recycled buffer's old contents would show NaN.
    setPoisonEmpty(true);
    try {
      const recycled = forwardSteps(c, 4, true);
      const plain = forwardSteps(c, 4, false);
      assert.ok(plain.allocations.every((n) => n > 0), `allocating path: ${plain.allocations}`);
      assert.ok(recycled.allocations[0] > 0);
      assert.deepEqual(recycled.allocations.slice(1), [0, 0, 0]);
      recycled.logits.forEach((l, s) => {
        assert.ok(l.every(Number.isFinite), `pass ${s}: finite`);
        assert.deepEqual(l, plain.logits[s], `pass ${s}`);
      });
    } finally {
      setPoisonEmpty(false);
    }
  });
}

test('step() gives everything back when fn returns or throws, and inside a running step lends from that one', () => {
  const buffers = new StepBuffers();
  let a: Float32Array = new Float32Array(0);
  buffers.step(() => { a = emptyFloat32(50); });
  assert.equal(recyclingBuffers(), null);
  assert.throws(() => buffers.step(() => {
    assert.equal(emptyFloat32(50), a, 'given back, lent again');
    throw new Error('boom');
  }), /boom/);
  assert.equal(recyclingBuffers(), null);
  buffers.step(() => assert.equal(emptyFloat32(50), a, 'given back after the throw'));
  const outer = new StepBuffers();
  outer.begin();
  try {
    const inner = buffers.step(() => emptyFloat32(50));
    assert.notEqual(inner, a, 'the inner pass took from the outer step');
    assert.equal(recyclingBuffers(), outer);
    assert.ok(outer.releasable(inner, 0));
  } finally {
    outer.end();
  }
});

function syntheticDataset(count: number, [channels, height, width]: [number, number, number]): ImageDataset {
  const g = new Generator(7);
  const images = Uint8Array.from({ length: count * channels * height * width }, () => g.nextUint32() & 255);
  const labels = Int32Array.from({ length: count }, () => g.randint(10));
  return { name: 'synthetic', split: 'test', images, labels, count, channels, height, width,
    classes: Array.from({ length: 10 }, (_, k) => `c${k}`), mean: new Array(channels).fill(0.5), std: new Array(channels).fill(0.25) };
}

for (const c of [CASES[1], CASES[3]]) {
  test(`evaluate() on ${c.model}: the metrics and confusion matrix of allocating passes, and a 5-batch pass allocates what a 1-batch pass does`, async () => {
    const model = evalModel(c);
    const ds = syntheticDataset(5 * c.batch, c.input);
    const loader = (count: number) => new DataLoader({ ...ds, count, images: ds.images.subarray(0, count * ds.images.length / ds.count), labels: ds.labels.subarray(0, count) },
      { batchSize: c.batch, reuseBatchStorage: true });
    const before = storageAllocations().count;
    await evaluate(model, loader(c.batch), ds.classes);
    const oneBatch = storageAllocations().count - before;
    const mid = storageAllocations().count;
    const result = await evaluate(model, loader(ds.count), ds.classes);
    assert.equal(storageAllocations().count - mid, oneBatch);
    // The same numbers, batch by batch without recycling.
    let loss = 0, top1 = 0, top5 = 0;
    const predicted: number[] = [];
    for await (const { x, y } of new DataLoader(ds, { batchSize: c.batch })) {
      noGrad(() => {
        const logits = model.call(x);
        loss += crossEntropy(logits, y).item() * y.length;
        top1 += accuracyTopK(logits, y, 1);
        top5 += accuracyTopK(logits, y, 5);
        predicted.push(...predictions(logits));
      });
    }
    assert.equal(result.count, ds.count);
    assert.equal(result.loss, loss / ds.count);
    assert.equal(result.accuracy, top1 / ds.count);
    assert.equal(result.top5, top5 / ds.count);
    const confusion = Array.from({ length: 10 }, () => new Array(10).fill(0));
    predicted.forEach((p, i) => confusion[ds.labels[i]][p]++);
    assert.deepEqual(result.confusion.counts, confusion);
  });
}

test('predictFile: files after the first allocate no tensor storage, and the same image gives the same probabilities', async () => {
  const dir = scratchDir('cnn-predict-buffers-');
  const file = join(dir, 'a.png');
  const g = new Generator(3);
  await sharp(Buffer.from(Uint8Array.from({ length: 28 * 28 }, () => g.nextUint32() & 255)), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(file);
  const model = evalModel(CASES[0]);
  const facts = { name: 'synthetic', classes: Array.from({ length: 10 }, (_, k) => `c${k}`), mean: [0.5], std: [0.25], inputShape: [1, 28, 28] as [number, number, number] };
  const first = await predictFile(model, facts, file, 3);
  const before = storageAllocations().count;
  const again = [await predictFile(model, facts, file, 3), await predictFile(model, facts, file, 3)];
  assert.equal(storageAllocations().count - before, 0);
  for (const p of again) assert.deepEqual(p, first);
});
