// Non-finite weights are never saved, and a checkpoint holding them is refused unless asked for.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { loadSafetensors, saveSafetensors } from '../../src/io/safetensors.js';
import { loadCheckpoint, nonFiniteTensors } from '../../src/train/checkpoint.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { scratchDir } from '../helpers/tmp.js';

const dir = scratchDir('cnn-finite-');
let data: string[] = [];
before(async () => {
  data = await writeTinyImageFolder(join(dir, 'images'));
});

test('nonFiniteTensors names every tensor holding NaN or Inf', () => {
  const t = (v: number) => Tensor.from([1, v, 2], [3]);
  assert.deepEqual(nonFiniteTensors([['a', t(0)], ['b', t(NaN)], ['c', t(1)], ['d', t(-Infinity)], ['e', t(Infinity)]]), ['b', 'd', 'e']);
  assert.deepEqual(nonFiniteTensors([]), []);
});

test('an exploding run (loss still finite, weights ±Inf) stops before writing any checkpoint', () => {
  const out = join(dir, 'inf');
  const r = runCli(['train', ...data, '--optimizer', 'sgd', '--lr', '1e38', '--weight-decay', '1e9', '--batch-size', '10000', '--epochs', '2', '--out', out]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^cnn: (?:error: )?weights became NaN or Inf at epoch 1 \(\S+ and \d+ more tensors\): training stopped \(no checkpoint was written yet; try a lower --lr\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.ok(!existsSync(join(out, 'last.bin')) && !existsSync(join(out, 'best.bin')));
});

test('a checkpoint holding Inf is refused by eval, predict and --resume unless --allow-nonfinite', () => {
  const out = join(dir, 'good');
  assert.equal(runCli(['train', ...data, '--out', out]).status, 0);
  const file = loadSafetensors(join(out, 'last.bin'));
  file.tensors.get('features.0.weight')!.data[3] = Infinity;
  const bad = join(dir, 'bad.bin');
  saveSafetensors(bad, Object.fromEntries(file.tensors), file.metadata);
  assert.throws(() => loadCheckpoint(bad), /bad\.bin holds NaN or Inf in features\.0\.weight; pass --allow-nonfinite to load it anyway/);
  assert.equal(loadCheckpoint(bad, { allowNonFinite: true }).modelState.get('features.0.weight')!.data[3], Infinity);
  const image = join(dir, 'images', 'a', '0.png');
  for (const args of [['eval', bad], ['predict', bad, image], ['train', '--resume', bad, '--epochs', '2']]) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /^cnn: (?:error: )?.*bad\.bin holds NaN or Inf in features\.0\.weight; pass --allow-nonfinite/);
  }
  const allowed = runCli(['predict', bad, image, '--allow-nonfinite', '--json']);
  assert.equal(allowed.status, 0, allowed.stderr);
});
