// A training step's memory is estimated from the model and input and refused, with the estimate,
// before anything is allocated when it would not fit.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { estimateStepMemory, parseMemorySize } from '../../src/train/memory-estimate.js';
import { summarize } from '../../src/nn/summary.js';
import { buildModel } from '../../src/models/registry.js';
import { scratchDir } from '../helpers/tmp.js';

const dir = scratchDir('cnn-memory-');
let data: string[] = [];
before(async () => {
  data = await writeTinyImageFolder(join(dir, 'images'));
});

test('parseMemorySize reads bytes and K/M/G/T suffixes', () => {
  assert.equal(parseMemorySize('1000'), 1000);
  assert.equal(parseMemorySize('512M'), 512 * 2 ** 20);
  assert.equal(parseMemorySize('1.5GB'), 1.5 * 2 ** 30);
  assert.equal(parseMemorySize('2 GiB'), 2 * 2 ** 30);
  for (const bad of ['', 'G', '-1G', '12Q', '1e9']) assert.ok(Number.isNaN(parseMemorySize(bad)), bad);
});

test('the estimate grows with the batch and counts the optimizer state', () => {
  const summary = summarize(buildModel('lenet5', { numClasses: 10, inChannels: 1 }), [1, 28, 28]);
  const a = estimateStepMemory(summary, 32, 0), b = estimateStepMemory(summary, 64, 2);
  assert.equal(b.activationBytes, 2 * a.activationBytes);
  assert.equal(a.modelBytes, 2 * summary.paramBytes);
  assert.equal(b.modelBytes, 4 * summary.paramBytes);
  assert.equal(b.totalBytes, b.modelBytes + b.activationBytes);
});

test('a step larger than the available memory is refused at once with its estimate', () => {
  const out = join(dir, 'huge');
  const r = runCli(['train', ...data, '--model', 'resnet18', '--image-size', '224', '--batch-size', '100000', '--out', out]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^cnn: (?:error: )?a training step of resnet18 on 100000 images of 3x224x224 needs about \d+\.\d GB \(model, gradients and optimizer \d+ MB, activations \d+\.\d GB\) but the memory available is [\d.]+ [GM]B; lower --batch-size or --image-size, or set the limit with --max-memory\n$/);
  assert.ok(!existsSync(out), 'a refused run leaves no folder');
  const limited = runCli(['train', ...data, '--max-memory', '1M', '--out', out]);
  assert.equal(limited.status, 2, limited.stderr);
  assert.match(limited.stderr, /needs about \d+ MB .* but --max-memory is 1 MB/);
  const bad = runCli(['train', ...data, '--max-memory', 'lots', '--out', out]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^cnn: (?:error: )?Expected a size such as 8G or 512M for --max-memory but received 'lots'\n$/);
});
