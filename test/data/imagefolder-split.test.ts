// ImageFolder on PNG/JPEG folders written with sharp; splitDataset; the `cnn datasets` command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadImageFolder } from '../../src/data/imagefolder.js';
import { loadDataset } from '../../src/data/registry.js';
import { imageAt, type ImageDataset } from '../../src/data/dataset.js';
import { splitDataset } from '../../src/data/split.js';
import { CorruptFileError, DatasetNotFoundError, DatasetOptionError } from '../../src/data/errors.js';
import { withTempDir } from '../helpers/tmp.js';

async function solid(file: string, rgb: [number, number, number], size: number, alpha = false): Promise<void> {
  const channels = alpha ? 4 : 3;
  const img = sharp({ create: { width: size, height: size + 3, channels, background: alpha ? { r: rgb[0], g: rgb[1], b: rgb[2], alpha: 1 } : { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  await (file.endsWith('.jpg') ? img.jpeg({ quality: 100 }) : img.png()).toFile(file);
}

async function writeFolder(root: string): Promise<void> {
  // Created out of order on purpose: classes and files are sorted by name, like torchvision.
  for (const [cls, rgb] of [['zebra', [0, 0, 255]], ['ant', [255, 0, 0]], ['Bee', [0, 255, 0]]] as const) {
    mkdirSync(path.join(root, cls), { recursive: true });
    await solid(path.join(root, cls, 'b.png'), [...rgb], 12);
    await solid(path.join(root, cls, 'a.png'), [...rgb], 20, true);
  }
  writeFileSync(path.join(root, 'ant', 'notes.txt'), 'not an image');
}

test('ImageFolder: sorted classes, resized, CHW planes, labels by folder', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await writeFolder(dir);
    const ds = await loadImageFolder(dir, { imageSize: 8 });
    assert.deepEqual(ds.classes, ['Bee', 'ant', 'zebra']);
    assert.equal(ds.count, 6);
    assert.deepEqual([ds.channels, ds.height, ds.width], [3, 8, 8]);
    assert.deepEqual(Array.from(ds.labels), [0, 0, 1, 1, 2, 2]);
    const ant = imageAt(ds, 2);
    assert.ok(ant.subarray(0, 64).every((v) => v === 255), 'red plane of a red image');
    assert.ok(ant.subarray(64).every((v) => v === 0), 'green and blue planes of a red image');
    assert.ok(imageAt(ds, 5).subarray(128).every((v) => v === 255), 'blue plane of a blue image');
    for (const m of ds.mean) assert.ok(Math.abs(m - 1 / 3) < 1e-9);
    const gray = await loadImageFolder(dir, { imageSize: 4, channels: 1 });
    assert.equal(gray.channels, 1);
    assert.equal(gray.images.length, 6 * 16);
  } finally {
    cleanup();
  }
});

test('ImageFolder: train/ and val/ splits through the registry; val uses train statistics', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await writeFolder(path.join(dir, 'train'));
    mkdirSync(path.join(dir, 'val', 'ant'), { recursive: true });
    mkdirSync(path.join(dir, 'val', 'Bee'), { recursive: true });
    mkdirSync(path.join(dir, 'val', 'zebra'), { recursive: true });
    await solid(path.join(dir, 'val', 'ant', 'x.jpg'), [255, 255, 255], 10);
    await solid(path.join(dir, 'val', 'Bee', 'x.png'), [255, 255, 255], 10);
    await solid(path.join(dir, 'val', 'zebra', 'x.png'), [255, 255, 255], 10);
    const train = await loadDataset('imagefolder', 'train', { dataDir: dir, imageSize: 6 });
    const val = await loadDataset('imagefolder', 'val', { dataDir: dir, imageSize: 6 });
    const viaTest = await loadDataset('imagefolder', 'test', { dataDir: dir, imageSize: 6 });
    assert.equal(train.count, 6);
    assert.equal(val.count, 3);
    assert.equal(viaTest.count, 3);
    assert.deepEqual(val.mean, train.mean);
    assert.deepEqual(val.classes, train.classes);
  } finally {
    cleanup();
  }
});

test('ImageFolder: a corrupt image, an empty class and a missing root are clear errors', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await writeFolder(dir);
    writeFileSync(path.join(dir, 'ant', 'c.png'), Buffer.from('\x89PNG\r\n\x1a\n garbage'));
    await assert.rejects(loadImageFolder(dir), (e: Error) => e instanceof CorruptFileError && e.message.includes('c.png'));
    const { dir: dir2, cleanup: cleanup2 } = withTempDir();
    try {
      mkdirSync(path.join(dir2, 'empty'));
      await assert.rejects(loadImageFolder(dir2), (e: Error) => e instanceof DatasetNotFoundError && /empty/.test(e.message));
    } finally {
      cleanup2();
    }
    await assert.rejects(loadImageFolder(path.join(dir, 'nope')), DatasetNotFoundError);
    await assert.rejects(loadDataset('imagefolder', 'train'), /--data-dir/);
  } finally {
    cleanup();
  }
});

function toy(count: number): ImageDataset {
  return {
    name: 'toy', split: 'train', images: Uint8Array.from({ length: count * 2 }, (_, i) => Math.floor(i / 2)),
    labels: Int32Array.from({ length: count }, (_, i) => i % 3), count, channels: 1, height: 1, width: 2,
    classes: ['a', 'b', 'c'], mean: [0.5], std: [0.1],
  };
}

test('splitDataset: seeded, disjoint, complete, images follow their labels', () => {
  const ds = toy(50);
  const { train, val } = splitDataset(ds, 0.1, 7);
  assert.equal(val.count, 5);
  assert.equal(train.count, 45);
  assert.equal(val.split, 'val');
  const ids = (d: ImageDataset) => Array.from({ length: d.count }, (_, i) => imageAt(d, i)[0]!);
  const all = [...ids(train), ...ids(val)].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 50 }, (_, i) => i));
  for (const d of [train, val]) ids(d).forEach((id, i) => assert.equal(d.labels[i], id % 3));
  assert.deepEqual(ids(splitDataset(ds, 0.1, 7).val), ids(val), 'same seed, same split');
  assert.notDeepEqual(ids(splitDataset(ds, 0.1, 8).val), ids(val), 'another seed, another split');
  assert.deepEqual(train.mean, ds.mean);
  assert.throws(() => splitDataset(ds, 0), DatasetOptionError);
  assert.throws(() => splitDataset(ds, 1), DatasetOptionError);
  assert.throws(() => splitDataset(toy(3), 0.01), DatasetOptionError);
});

test('cnn datasets --json lists the registry and what is on disk; bad names exit 2', () => {
  const { dir, cleanup } = withTempDir();
  try {
    const cli = fileURLToPath(new URL('../../../bin/cnn.js', import.meta.url));
    const out = execFileSync(process.execPath, [cli, 'datasets', '--json', '--data-dir', dir], { encoding: 'utf8' });
    const parsed = JSON.parse(out) as { dataRoot: string; datasets: { name: string; state: string; downloadBytes: number }[] };
    assert.equal(parsed.dataRoot, dir);
    const byName = new Map(parsed.datasets.map((d) => [d.name, d]));
    assert.equal(byName.get('fashion-mnist-mini')?.state, 'bundled');
    assert.equal(byName.get('cifar10')?.state, 'missing');
    assert.equal(byName.get('cifar10')?.downloadBytes, 170_052_171);
    for (const name of ['mnist', 'cifar100', 'imagefolder']) assert.ok(byName.has(name));
    const bad = spawnSync(process.execPath, [cli, 'datasets', 'download', 'nope'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /unknown dataset "nope"/);
  } finally {
    cleanup();
  }
});
