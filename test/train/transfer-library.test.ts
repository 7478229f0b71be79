// The tutorial's transfer-learning flow in the library, as the README shows it: weights from a
// PyTorch .pth, freeze, replace fc, a few steps on a DataLoader, save a checkpoint that
// `cnn predict` takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { nn, models, optim, io, data, train } from '../../src/index.js';
import { crossEntropy } from '../../src/tensor/loss.js';
import { withTempDir } from '../helpers/tmp.js';
import { encodeTorchStateDict } from '../helpers/torch-zip.js';
import { runCli } from '../helpers/cli.js';

test('load .pth weights, freeze, replace fc, train on a DataLoader, save a checkpoint cnn predict takes', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    // "Pretrained" weights as torch.save writes them (random here; a real file loads the same way).
    const source = models.resnet18({ stem: 'cifar' });
    const int64 = source.int64Keys();
    const weights = path.join(dir, 'resnet18.pth');
    writeFileSync(weights, encodeTorchStateDict([...source.stateDict()].map(([key, tensor]) => ({ key, tensor, dtype: int64.has(key) ? 'I64' as const : 'F32' as const }))));

    // The README's code.
    const model = models.resnet18({ stem: 'cifar' });
    model.loadStateDict(io.loadWeights(weights).tensors);
    for (const p of model.parameters()) p.requiresGrad = false;
    model.fc = new nn.Linear({ inFeatures: 512, outFeatures: 3 });
    const opt = new optim.SGD(model.parameters().filter((p) => p.requiresGrad), { lr: 0.01, momentum: 0.9 });

    const images = new Uint8Array(12 * 3 * 32 * 32).map((_, i) => (i * 37) % 251);
    const dataset: data.ImageDataset = {
      name: 'tiny', split: 'train', images, labels: Int32Array.from({ length: 12 }, (_, i) => i % 3), count: 12,
      channels: 3, height: 32, width: 32, classes: ['a', 'b', 'c'], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25],
    };
    const loader = new data.DataLoader(dataset, { batchSize: 4, shuffle: true, seed: 0 });
    const conv1 = [...model.conv1.weight.data];
    const head = [...model.fc.weight.data];
    model.train();
    for (const m of model.modules()) if (m instanceof nn.BatchNorm2d) m.eval(); // frozen BatchNorm keeps its statistics
    for await (const { x, y } of loader) {
      const loss = crossEntropy(model.call(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    assert.deepEqual([...model.conv1.weight.data], conv1, 'the frozen backbone did not move');
    assert.notDeepEqual([...model.fc.weight.data], head, 'the new head learned');
    for (const [k, t] of model.stateDict()) {
      if (!k.startsWith('fc.')) assert.deepEqual([...t.data], [...source.stateDict().get(k)!.data], k);
    }

    const checkpoint = path.join(dir, 'best.bin');
    train.saveCheckpoint(checkpoint, model, { name: 'resnet18', numClasses: 3, inChannels: 3, stem: 'cifar' },
      { name: 'tiny', classes: dataset.classes, mean: dataset.mean, std: dataset.std, inputShape: [3, 32, 32] });
    const png = path.join(dir, 'x.png');
    await sharp(Buffer.from(images.subarray(0, 3 * 32 * 32)), { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(png);
    const r = runCli(['predict', checkpoint, png, '--top-k', '3', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { top: { class: string }[] };
    assert.deepEqual(line.top.map((t) => t.class).sort(), ['a', 'b', 'c']);
  } finally {
    cleanup();
  }
});
