// Transfer learning in the library, as the PyTorch tutorial does it, offline on Fashion-MNIST:
// pretrain simplecnn on classes 0-4, save its state dict as a plain safetensors file, then train a
// new 5-class head on classes 5-9 from those weights with the backbone frozen (BatchNorm in eval
// mode), beside the same model from scratch with the same images and epochs.
//
//   node dist/bench/transfer-fashion.js [per-class=100] [epochs=10] [pretrain-per-class=3000] [pretrain-epochs=2]
//
// Needs Fashion-MNIST (apt-get install -y dataset-fashion-mnist, or $CNN_DATA/fashion-mnist).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tensor, noGrad } from '../src/tensor/tensor.js';
import { manualSeed } from '../src/tensor/random.js';
import { crossEntropy, accuracyTopK } from '../src/tensor/loss.js';
import * as nn from '../src/nn/index.js';
import { buildModel } from '../src/models/registry.js';
import type { SimpleCNN } from '../src/models/simplecnn.js';
import { Adam } from '../src/optim/adam.js';
import { loadDataset } from '../src/data/registry.js';
import type { ImageDataset } from '../src/data/dataset.js';
import { saveSafetensors } from '../src/io/safetensors.js';
import { loadWeights } from '../src/io/weights.js';

const [perClass = 100, epochs = 10, pretrainPerClass = 3000, pretrainEpochs = 2] = process.argv.slice(2).map(Number);
const MEAN = 0.2860, STD = 0.3530;

/** Images of `classes` (at most `limit` each, in file order) as normalized 1×32×32 (28×28 zero-padded by 2), labels renumbered 0..k-1. */
function subset(ds: ImageDataset, classes: number[], limit: number): { x: Float32Array; y: Int32Array; n: number } {
  const picked: number[] = [];
  const taken = new Map<number, number>();
  for (let i = 0; i < ds.count; i++) {
    const c = ds.labels[i];
    if (!classes.includes(c) || (taken.get(c) ?? 0) >= limit) continue;
    taken.set(c, (taken.get(c) ?? 0) + 1);
    picked.push(i);
  }
  const x = new Float32Array(picked.length * 32 * 32).fill((0 - MEAN) / STD);
  const y = new Int32Array(picked.length);
  picked.forEach((src, j) => {
    y[j] = classes.indexOf(ds.labels[src]);
    for (let r = 0; r < 28; r++) {
      for (let c = 0; c < 28; c++) x[j * 1024 + (r + 2) * 32 + c + 2] = (ds.images[src * 784 + r * 28 + c] / 255 - MEAN) / STD;
    }
  });
  return { x, y, n: picked.length };
}

function batch(d: { x: Float32Array; y: Int32Array }, idx: number[]): [Tensor, Int32Array] {
  const x = new Float32Array(idx.length * 1024);
  idx.forEach((i, j) => x.set(d.x.subarray(i * 1024, (i + 1) * 1024), j * 1024));
  return [new Tensor(x, [idx.length, 1, 32, 32]), Int32Array.from(idx, (i) => d.y[i])];
}

function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed + 1;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** train() mode, with the frozen backbone's BatchNorm layers kept in eval mode (running statistics fixed). */
function trainMode(model: SimpleCNN, frozenBackbone: boolean): void {
  model.train();
  if (frozenBackbone) for (const m of model.features.modules()) if (m instanceof nn.BatchNorm2d) m.eval();
}

function fit(model: SimpleCNN, d: { x: Float32Array; y: Int32Array; n: number }, nEpochs: number, frozenBackbone: boolean): number {
  const opt = new Adam(model.parameters().filter((p) => p.requiresGrad), { lr: 1e-3 });
  const start = performance.now();
  for (let e = 0; e < nEpochs; e++) {
    trainMode(model, frozenBackbone);
    const order = shuffled(d.n, e);
    for (let i = 0; i < d.n; i += 32) {
      const [x, y] = batch(d, order.slice(i, i + 32));
      const loss = crossEntropy(model.call(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
  }
  return (performance.now() - start) / 1000;
}

function accuracy(model: SimpleCNN, d: { x: Float32Array; y: Int32Array; n: number }): number {
  model.eval();
  let correct = 0;
  noGrad(() => {
    for (let i = 0; i < d.n; i += 256) {
      const idx = Array.from({ length: Math.min(256, d.n - i) }, (_, k) => i + k);
      const [x, y] = batch(d, idx);
      correct += accuracyTopK(model.call(x), y, 1);
    }
  });
  return correct / d.n;
}

const opts = { download: false };
const [train, test] = [await loadDataset('fashion-mnist', 'train', opts), await loadDataset('fashion-mnist', 'test', opts)];
const first = [0, 1, 2, 3, 4], second = [5, 6, 7, 8, 9];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cnn-transfer-'));
try {
  manualSeed(0);
  const base = buildModel('simplecnn', { numClasses: 5, inChannels: 1 }) as SimpleCNN;
  const pre = subset(train, first, pretrainPerClass);
  const preSeconds = fit(base, pre, pretrainEpochs, false);
  const preAcc = accuracy(base, subset(test, first, Infinity));
  const file = path.join(tmp, 'simplecnn-fmnist-0-4.safetensors');
  saveSafetensors(file, Object.fromEntries(base.stateDict()));
  console.log(`pretrain: simplecnn on classes 0-4, ${pre.n} images × ${pretrainEpochs} epochs: ${preSeconds.toFixed(1)} s, test accuracy ${(100 * preAcc).toFixed(2)}%`);

  const few = subset(train, second, perClass);
  const evalSet = subset(test, second, Infinity);
  const rows: string[] = [];
  for (const from of ['init + frozen backbone', 'scratch'] as const) {
    manualSeed(1);
    const model = buildModel('simplecnn', { numClasses: 5, inChannels: 1 }) as SimpleCNN;
    if (from !== 'scratch') {
      // The tutorial: load the weights, freeze, replace the last layer with a new head.
      const report = model.loadStateDict(loadWeights(file).tensors);
      for (const p of model.features.parameters()) p.requiresGrad = false;
      model.classifier[3] = new nn.Linear({ inFeatures: 512, outFeatures: 5 });
      const trainable = model.parameters().filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0);
      const total = model.parameters().reduce((s, p) => s + p.size, 0);
      console.log(`init: ${report.loaded.length} tensors loaded; classifier.3 replaced; ${trainable.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} parameters trainable`);
    }
    const seconds = fit(model, few, epochs, from !== 'scratch');
    const acc = accuracy(model, evalSet);
    rows.push(`| ${from} | ${few.n} | ${epochs} | ${(100 * acc).toFixed(2)}% | ${seconds.toFixed(1)} s |`);
  }
  console.log(`\nclasses 5-9, ${perClass} training images per class, test on all ${evalSet.n} test images of those classes\n`);
  console.log('| start | images | epochs | test top-1 | train time |\n|---|---|---|---|---|');
  for (const r of rows) console.log(r);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
