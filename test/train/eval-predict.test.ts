// cnn eval and cnn predict on a checkpoint trained here; --freeze-backbone.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadDataset } from '../../src/data/registry.js';
import { buildModel } from '../../src/models/registry.js';
import { manualSeed } from '../../src/tensor/random.js';
import { scratchDir } from '../helpers/tmp.js';

const dir = scratchDir('cnn-eval-');
const run = join(dir, 'run');
const checkpoint = join(run, 'best.bin');

before(() => {
  const r = runCli(['train', '--epochs', '1', '--out', run, '--quiet', '--seed', '2']);
  assert.equal(r.status, 0, r.stderr);
});

test('eval prints loss, top-1, top-5 and a per-class table, and writes confusion_matrix.png', async () => {
  const r = runCli(['eval', checkpoint, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const e = JSON.parse(r.stdout) as {
    dataset: string; split: string; count: number; loss: number; top1: number; top5: number;
    perClass: { name: string; precision: number; recall: number; f1: number; support: number }[]; confusionMatrix: number[][]; confusionMatrixImage: string;
  };
  assert.equal(e.dataset, 'fashion-mnist-mini');
  assert.equal(e.split, 'test');
  assert.equal(e.count, 2000);
  assert.ok(e.top1 > 0.6 && e.top5 >= e.top1 && e.loss > 0);
  assert.equal(e.perClass.length, 10);
  assert.equal(e.perClass.reduce((s, c) => s + c.support, 0), 2000);
  const correct = e.confusionMatrix.reduce((s, row, i) => s + row[i], 0);
  assert.equal(correct / 2000, e.top1);
  // Recall of class k is the diagonal over its row.
  e.perClass.forEach((c, k) => assert.ok(Math.abs(c.recall - e.confusionMatrix[k][k] / c.support) < 1e-12));
  const meta = await sharp(e.confusionMatrixImage).metadata();
  assert.ok((meta.width ?? 0) > 300 && (meta.height ?? 0) > 200);
  const text = runCli(['eval', checkpoint, '--out', join(dir, 'evalout')]);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /top-1 \d+\.\d\d%  top-5/);
  assert.match(text.stdout, /class +precision +recall +f1 +support/);
  assert.ok(existsSync(join(dir, 'evalout', 'confusion_matrix.png')));
});

test('predict gives top-k classes with probabilities for real images', async () => {
  const ds = await loadDataset('fashion-mnist-mini', 'test');
  const files: string[] = [];
  for (const i of [0, 1]) {
    const file = join(dir, `img${i}.png`);
    await sharp(Buffer.from(ds.images.subarray(i * 784, (i + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w').png().toFile(file);
    files.push(file);
  }
  const r = runCli(['predict', checkpoint, ...files, '--json', '--top-k', '3']);
  assert.equal(r.status, 0, r.stderr);
  const preds = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; top: { class: string; index: number; prob: number }[]; probs: number[] });
  assert.equal(preds.length, 2);
  for (const [i, p] of preds.entries()) {
    assert.equal(p.file, files[i]);
    assert.equal(p.top.length, 3);
    assert.equal(p.probs.length, 10);
    assert.ok(Math.abs(p.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.ok(p.top[0].prob >= p.top[1].prob && p.top[1].prob >= p.top[2].prob);
    assert.equal(p.top[0].class, ds.classes[p.top[0].index]);
  }
  const missing = runCli(['predict', checkpoint, join(dir, 'nope.png')]);
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  const notCheckpoint = runCli(['predict', files[0], files[0]]);
  assert.equal(notCheckpoint.status, 2);
  assert.match(notCheckpoint.stderr, /not a safetensors file|not a cnn checkpoint/);
});

test('--freeze-backbone trains only the head and keeps frozen BatchNorm statistics', async () => {
  // A tiny RGB image folder keeps this fast: two classes, 16 training and 8 validation images.
  const root = join(dir, 'folder');
  for (const [split, n] of [['train', 8], ['val', 4]] as const) {
    for (const [k, cls] of ['dark', 'light'].entries()) {
      mkdirSync(join(root, split, cls), { recursive: true });
      for (let i = 0; i < n; i++) {
        const px = Buffer.alloc(32 * 32 * 3, k ? 200 - i : 40 + i);
        await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(root, split, cls, `${i}.png`));
      }
    }
  }
  const common = ['--model', 'simplecnn', '--dataset', 'imagefolder', '--data-dir', root, '--image-size', '32', '--epochs', '1', '--batch-size', '4', '--quiet'];
  const base = join(dir, 'base'), frozen = join(dir, 'frozen');
  assert.equal(runCli(['train', ...common, '--out', base]).status, 0);
  const r = runCli(['train', ...common, '--out', frozen, '--freeze-backbone']);
  assert.equal(r.status, 0, r.stderr);
  const a = loadCheckpoint(join(base, 'last.bin')).modelState, b = loadCheckpoint(join(frozen, 'last.bin')).modelState;
  const changed = (k: string) => a.get(k)!.data.some((v, i) => v !== b.get(k)!.data[i]);
  assert.ok(changed('features.0.weight'), 'the unfrozen run moved the backbone');
  // Same seed, same initialization: the frozen backbone is still the initial one.
  manualSeed(0);
  const initial = buildModel('simplecnn', { numClasses: 2, inChannels: 3 }).stateDict();
  assert.deepEqual([...b.get('features.0.weight')!.data], [...initial.get('features.0.weight')!.data], 'frozen conv weights are the initial ones');
  assert.deepEqual([...b.get('features.1.running_mean')!.data], new Array(32).fill(0), 'frozen BatchNorm kept its running mean');
  assert.equal(b.get('features.1.num_batches_tracked')!.item(), 0);
  assert.notDeepEqual([...b.get('classifier.3.weight')!.data], [...initial.get('classifier.3.weight')!.data], 'the head trained');
});
