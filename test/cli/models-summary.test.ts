import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

interface Row { path: string; type: string; outputShape: number[]; params: number; macs: number; receptiveField: { h: { size: number; jump: number; start: number } } | null }

test('summary --json: rows per layer with shapes, parameters, MACs and receptive fields', () => {
  const r = runCli(['summary', '--model', 'lenet5', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { layers: Row[]; totalParams: number; trainableParams: number; totalMacs: number };
  assert.equal(s.totalParams, 44426);
  assert.equal(s.trainableParams, 44426);
  assert.deepEqual(s.layers.map((l) => l.path), ['features.0', 'features.1', 'features.2', 'features.3', 'features.4', 'features.5',
    'classifier.0', 'classifier.1', 'classifier.2', 'classifier.3', 'classifier.4']);
  const conv2 = s.layers[3];
  assert.deepEqual(conv2.outputShape, [1, 16, 8, 8]);
  assert.equal(conv2.params, 16 * 6 * 25 + 16);
  assert.equal(conv2.macs, 16 * 8 * 8 * 6 * 25);
  // k5 → pool 2 → k5 → pool 2: fields 5, 6, 14, 16 with jumps 1, 2, 2, 4.
  assert.deepEqual([0, 2, 3, 5].map((i) => [s.layers[i].receptiveField!.h.size, s.layers[i].receptiveField!.h.jump]), [[5, 1], [6, 2], [14, 2], [16, 4]]);
  assert.equal(s.layers[6].receptiveField, null);
  assert.equal(s.totalMacs, s.layers.reduce((a, l) => a + l.macs, 0));
});

test('summary of a residual network takes the larger field over both paths', () => {
  const r = runCli(['summary', '--model', 'resnet18', '--input', '3x32x32', '--stem', 'cifar', '--num-classes', '10', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { layers: Row[]; totalParams: number };
  assert.equal(s.totalParams, 11173962);
  const byPath = new Map(s.layers.map((l) => [l.path, l]));
  // conv1 3×3 → 3; block 1: two more 3×3 → 7; the downsample path (1×1 stride 2) is narrower.
  assert.equal(byPath.get('conv1')!.receptiveField!.h.size, 3);
  assert.equal(byPath.get('layer1.0.conv2')!.receptiveField!.h.size, 7);
  assert.equal(byPath.get('layer2.0.downsample.0')!.receptiveField!.h.jump, 2);
  assert.deepEqual(byPath.get('fc')!.outputShape, [1, 10]);
  const text = runCli(['summary', '--model', 'resnet18', '--input', '3x32x32', '--stem', 'cifar', '--num-classes', '10']);
  assert.match(text.stdout, /parameters: +11,173,962 \(trainable 11,173,962, frozen 0\)/);
  assert.match(text.stdout, /layer4\.1\.conv2 +Conv2d +\[1, 512, 4, 4\] +2,359,296/);
});

test('summary and models reject bad input with one line and exit code 2', () => {
  for (const args of [['summary', '--model', 'nope'], ['summary', '--model', 'lenet5', '--input', '3x3'], ['summary', '--model', 'resnet18', '--input', '3x8x8x8'],
    ['summary', '--model', 'vgg11', '--stem', 'cifar']]) {
    const r = runCli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const tooSmall = runCli(['summary', '--model', 'lenet5', '--input', '1x8x8']);
  assert.equal(tooSmall.status, 2);
  assert.match(tooSmall.stderr, /cannot take a 1x8x8 input/);
});

test('models lists every model with torchvision parameter counts', () => {
  const r = runCli(['models', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { name: string; params: number; input: number[] }[];
  const params = new Map(list.map((m) => [m.name, m.params]));
  assert.equal(params.get('resnet18'), 11689512);
  assert.equal(params.get('resnet50'), 25557032);
  assert.equal(params.get('vgg16'), 138357544);
  assert.equal(params.get('mobilenet_v2'), 3504872);
  assert.equal(params.get('lenet5'), 44426);
  // Issue 16's models at torchvision's counts.
  assert.equal(params.get('efficientnet_b0'), 5288548);
  assert.equal(params.get('convnext_tiny'), 28589128);
  assert.equal(params.get('densenet121'), 7978856);
  assert.equal(params.get('regnet_y_400mf'), 4344144);
  assert.equal(params.get('mobilenet_v3_small'), 2542856);
  assert.equal(params.get('resnext50_32x4d'), 25028904);
  assert.equal(list.length, 23);
  assert.match(runCli(['models']).stdout, /resnet18 +11,689,512 +1000 +3x224x224/);
});

test('summary of a checkpoint: its model at the input it was trained on', async () => {
  const { withTempDir } = await import('../helpers/tmp.js');
  const { buildModel } = await import('../../src/models/registry.js');
  const { saveCheckpoint } = await import('../../src/train/checkpoint.js');
  const { dir, cleanup } = withTempDir();
  try {
    const file = `${dir}/ck.bin`;
    saveCheckpoint(file, buildModel('simplecnn', { numClasses: 3, inChannels: 3 }), { name: 'simplecnn', numClasses: 3, inChannels: 3 },
      { name: 'shapes', classes: ['a', 'b', 'c'], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], inputShape: [3, 32, 32] });
    const r = runCli(['summary', file, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { model: string; layers: Row[] };
    assert.equal(s.model, 'simplecnn');
    assert.deepEqual(s.layers.at(-1)!.outputShape, [1, 3]);
    const text = runCli(['summary', file]);
    assert.match(text.stdout, /^simplecnn, input 3x32x32/);
    const both = runCli(['summary', file, '--model', 'lenet5']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /come from the checkpoint/);
    const neither = runCli(['summary']);
    assert.equal(neither.status, 2);
    assert.match(neither.stderr, /needs --model <name> or a checkpoint/);
  } finally {
    cleanup();
  }
});

test('summary shows the newer models layer by layer (ConvNeXt: NHWC inside its blocks)', () => {
  const r = runCli(['summary', '--model', 'convnext_tiny', '--input', '3x32x32', '--num-classes', '10', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { layers: Row[]; totalParams: number };
  assert.equal(s.totalParams, 27827818);
  const byPath = new Map(s.layers.map((l) => [l.path, l]));
  assert.equal(byPath.get('features.0.1')!.type, 'LayerNorm2d');
  assert.deepEqual(byPath.get('features.1.0.block.3')!.outputShape, [1, 8, 8, 384]);
  assert.deepEqual(byPath.get('features.1.0.block.6')!.outputShape, [1, 96, 8, 8]);
  assert.deepEqual(byPath.get('classifier.2')!.outputShape, [1, 10]);
});
