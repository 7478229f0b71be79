// `cnn train --init FILE`: a new run from a PyTorch .pth or a safetensors state dict. The frozen
// backbone in best.bin is the file's bit for bit (BatchNorm statistics included), the head of
// another shape is re-initialised, a wrong --model is refused naming keys, and RGB weights on
// grayscale data sum the first convolution's filters (timm's in_chans=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { models, io } from '../../src/index.js';
import type { Module } from '../../src/nn/module.js';
import { withTempDir } from '../helpers/tmp.js';
import { encodeTorchStateDict } from '../helpers/torch-zip.js';
import { writeTinyImageFolder } from '../helpers/tiny-dataset.js';
import { runCli } from '../helpers/cli.js';

/** Every float tensor filled with distinct values (running_var positive), unlike any fresh initialisation. */
function distinctWeights(model: Module): Module {
  let k = 1;
  for (const [key, t] of model.stateDict()) {
    if (key.endsWith('num_batches_tracked')) { t.data.fill(7); continue; }
    for (let i = 0; i < t.data.length; i++) t.data[i] = key.endsWith('running_var') ? 0.5 + ((i * 13 + k) % 17) / 17 : Math.sin(i * 0.37 + k) * 0.05;
    k++;
  }
  return model;
}

const bits = (t: { data: Float32Array }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

function startEvent(stdout: string): Record<string, unknown> {
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'start')!;
}

test('--init from .pth and safetensors with --freeze-backbone: backbone and BN statistics bit-equal in best.bin, fc re-initialised [3, 512]; a wrong --model is refused naming keys', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const folder = await writeTinyImageFolder(path.join(dir, 'img'), 4);
    const data = folder.filter((a) => a !== '--quiet');
    const source = distinctWeights(models.resnet18());
    const int64 = source.int64Keys();
    const pth = path.join(dir, 'resnet18.pth');
    writeFileSync(pth, encodeTorchStateDict([...source.stateDict()].map(([key, tensor]) => ({ key, tensor, dtype: int64.has(key) ? 'I64' as const : 'F32' as const }))));
    const st = path.join(dir, 'resnet18.safetensors');
    io.saveSafetensors(st, Object.fromEntries([...source.stateDict()].map(([key, tensor]) => [key, { tensor, dtype: int64.has(key) ? 'I64' as const : 'F32' as const }])));

    for (const file of [pth, st]) {
      const out = path.join(dir, `run-${path.extname(file).slice(1)}`);
      const r = runCli(['train', '--model', 'resnet18', '--init', file, '--num-classes', '3', '--freeze-backbone', ...data,
        '--image-size', '32', '--batch-size', '4', '--threads', '1', '--out', out, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const start = startEvent(r.stdout);
      assert.equal(start.trainableParams, 3 * 512 + 3);
      assert.equal(start.params, 11_178_051);
      assert.match(String(start.init), new RegExp(`^initialised from .*${path.basename(file)}: 120 tensors loaded; 2 skipped and re-initialised: fc\\.weight \\(shape \\[1000, 512\\] in the file, \\[3, 512\\] in the model\\), fc\\.bias`));
      const best = io.loadWeights(path.join(out, 'best.bin')).tensors;
      for (const [key, t] of source.stateDict()) {
        if (key.startsWith('fc.')) continue;
        assert.ok(bits(best.get(key)!).equals(bits(t)), `${key} differs from the file's`);
      }
      assert.deepEqual(best.get('fc.weight')!.shape, [3, 512]);
      const bound = 1 / Math.sqrt(512); // nn.Linear's fresh initialisation
      assert.ok(best.get('fc.weight')!.data.every((v) => Math.abs(v) <= bound * 1.5), 'fc.weight is freshly initialised, not the file\'s');
    }

    const wrong = runCli(['train', '--model', 'vgg11', '--init', pth, '--num-classes', '3', ...data, '--image-size', '32', '--threads', '1', '--out', path.join(dir, 'wrong')]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /^cnn: --init .*resnet18\.pth: \d+ key\(s\) in the file match nothing in \w+: conv1\.weight, bn1\.weight/m);
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
  } finally {
    cleanup();
  }
});

test('--init with RGB weights on grayscale data sums the first convolution\'s filters and says so; --init-non-strict loads what matches', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const folder = await writeTinyImageFolder(path.join(dir, 'img'), 4);
    const data = folder.filter((a) => a !== '--quiet');
    const source = distinctWeights(new models.LeNet5({ inChannels: 3, numClasses: 2 }));
    const file = path.join(dir, 'lenet-rgb.safetensors');
    io.saveSafetensors(file, Object.fromEntries(source.stateDict()));
    const out = path.join(dir, 'run');
    const r = runCli(['train', '--model', 'lenet5', '--init', file, '--freeze-backbone', ...data, '--threads', '1', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const start = startEvent(r.stdout);
    assert.match(String(start.init), /features\.0\.weight: the 3 RGB filters summed into 1 channel \(timm's adapt_input_conv\)/);
    const best = io.loadWeights(path.join(out, 'best.bin')).tensors;
    const w = source.stateDict().get('features.0.weight')!;
    const [o, , kh, kw] = w.shape;
    const plane = kh * kw;
    const summed = Float32Array.from({ length: o * plane }, (_, j) => {
      const src = Math.floor(j / plane) * 3 * plane + (j % plane);
      return Math.fround(w.data[src] + w.data[src + plane]) + w.data[src + 2 * plane];
    });
    assert.ok(bits(best.get('features.0.weight')!).equals(bits({ data: summed })));
    for (const [key, t] of source.stateDict()) {
      if (key === 'features.0.weight' || key.startsWith('classifier.')) continue;
      assert.ok(bits(best.get(key)!).equals(bits(t)), `${key} differs from the file's`);
    }

    // A file with a key the model lacks: refused, then loaded with --init-non-strict.
    const extra = path.join(dir, 'extra.safetensors');
    io.saveSafetensors(extra, { ...Object.fromEntries(source.stateDict()), 'aux.weight': source.stateDict().get('features.0.bias')! });
    const refused = runCli(['train', '--model', 'lenet5', '--init', extra, ...data, '--threads', '1', '--out', path.join(dir, 'refused')]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /^cnn: --init .*: 1 key\(s\) in the file match nothing in \w+: aux\.weight/m);
    const loose = runCli(['train', '--model', 'lenet5', '--init', extra, '--init-non-strict', ...data, '--threads', '1', '--out', path.join(dir, 'loose'), '--json']);
    assert.equal(loose.status, 0, loose.stderr);
    assert.match(String(startEvent(loose.stdout).init), /1 unused: aux\.weight/);
    assert.ok(readFileSync(path.join(dir, 'loose', 'best.bin')).length > 0);
  } finally {
    cleanup();
  }
});
