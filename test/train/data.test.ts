// The training transforms: preset, resize and the single augmentation flags, in torchvision's order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transformFor } from '../../src/train/data.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { RandomCrop, Resize } from '../../src/data/transforms.js';
import { planAugment } from '../../src/data/augment.js';
import { photoTransforms } from '../../src/data/photo-transforms.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { runCli } from '../helpers/cli.js';
import { join } from 'node:path';
import { scratchDir } from '../helpers/tmp.js';

const ds = { name: 'cifar10', split: 'train', images: new Uint8Array(0), labels: new Int32Array(0), count: 0, channels: 3, height: 32, width: 32,
  classes: [], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } as ImageDataset;
const names = (c: { transforms: readonly object[] }) => c.transforms.map((t) => t.constructor.name);

test('preset and extra augmentations compose in torchvision order; validation only normalizes', () => {
  assert.deepEqual(names(transformFor(ds, 'basic', true)), ['RandomCrop', 'RandomHorizontalFlip', 'ToTensor', 'Normalize']);
  assert.deepEqual(names(transformFor(ds, 'none', true, undefined, { randomResizedCrop: 0.5, vflip: 0.5, rotation: 10, colorJitter: [0.1, 0.1, 0.1, 0.02], grayscale: 0.1, erasing: 0.3 })),
    ['RandomResizedCrop', 'RandomVerticalFlip', 'RandomRotation', 'ColorJitter', 'RandomGrayscale', 'ToTensor', 'Normalize', 'RandomErasing']);
  assert.deepEqual(names(transformFor(ds, 'strong', false, undefined, { hflip: 1, erasing: 1 })), ['ToTensor', 'Normalize']);
});

test('--auto-augment comes after the uint8 steps, before ToTensor, for built-in datasets and image files (training only)', () => {
  assert.deepEqual(names(transformFor(ds, 'basic', true, undefined, { autoAugment: 'trivial', erasing: 0.2 })),
    ['RandomCrop', 'RandomHorizontalFlip', 'TrivialAugmentWide', 'ToTensor', 'Normalize', 'RandomErasing']);
  assert.deepEqual(names(transformFor(ds, 'none', true, undefined, { autoAugment: 'rand-m9-mstd0.5' })), ['RandAugment', 'ToTensor', 'Normalize']);
  assert.deepEqual(names(transformFor(ds, 'basic', false, undefined, { autoAugment: 'imagenet' })), ['ToTensor', 'Normalize']);
  const photo = { size: 16, mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2], autoAugment: 'imagenet' };
  assert.deepEqual(names(photoTransforms({ ...photo, augment: 'basic' }, true).transform), ['RandomHorizontalFlip', 'AutoAugment', 'ToTensor', 'Normalize']);
  assert.deepEqual(names(photoTransforms({ ...photo, augment: 'none' }, true).transform), ['AutoAugment', 'ToTensor', 'Normalize']);
  assert.deepEqual(names(photoTransforms({ ...photo, augment: 'basic' }, false).transform), ['ToTensor', 'Normalize']);
});

test('--auto-augment is recorded in the checkpoint and --resume refuses another', () => {
  const out = join(scratchDir('cnn-autoaug-'), 'run');
  const r = runCli(['train', '--epochs', '1', '--out', out, '--auto-augment', 'rand-m9-mstd0.5']);
  assert.equal(r.status, 0, r.stderr);
  const training = loadCheckpoint(join(out, 'last.bin')).training as { config: { autoAugment?: string } };
  assert.equal(training.config.autoAugment, 'rand-m9-mstd0.5');
  const resumed = runCli(['train', '--epochs', '2', '--resume', join(out, 'last.bin'), '--auto-augment', 'trivial']);
  assert.equal(resumed.status, 2, resumed.stderr);
  assert.match(resumed.stderr, /--auto-augment trivial \(the run has rand-m9-mstd0.5\)/);
});

test('with --image-size the preset crops at the resized size', () => {
  const gray = { ...ds, name: 'fashion-mnist', channels: 1, height: 28, width: 28, mean: [0.286], std: [0.353] };
  const t = transformFor(gray, 'basic', true, 32);
  assert.ok(t.transforms[0] instanceof Resize);
  assert.ok(t.transforms[1] instanceof RandomCrop);
  assert.deepEqual(planAugment(t, { channels: 1, height: 28, width: 28 }).output, { channels: 1, height: 32, width: 32 });
});

test('bad augmentation flags are one line and exit code 2', () => {
  for (const [args, message] of [
    [['--hflip', '1.5'], /probability in \[0, 1\] for --hflip/],
    [["--color-jitter", "0.1,0.2"], /four numbers .* for --color-jitter/],
    [['--random-crop', '-1'], /random-crop/],
    [['--random-resized-crop', '0'], /minimum scale in \(0, 1\]/],
    [['--auto-augment', 'rand-m12'], /--auto-augment: 'rand-m12' is not an auto-augment policy \(m must be at most 10\)/],
    [['--auto-augment', 'augmix'], /--auto-augment: 'augmix' is not an auto-augment policy/],
  ] as [string[], RegExp][]) {
    const r = runCli(['train', ...args, '--epochs', '1']);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
