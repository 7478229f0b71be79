// The streaming loader on generated JPEG folders: batches, labels, seeded augmentation, corrupt
// files, and decoding per batch (never the whole dataset up front).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { openImageFiles } from '../../src/data/image-files.js';
import { photoTransforms } from '../../src/data/photo-transforms.js';
import { StreamingLoader, type ImageFiles } from '../../src/data/stream-loader.js';
import { describeEvalTransform, openPhotoSplits, openPhotoValidation } from '../../src/data/photo-splits.js';
import { CorruptFileError } from '../../src/data/errors.js';
import type { Batch } from '../../src/data/loader.js';
import { withTempDir } from '../helpers/tmp.js';

async function solidJpeg(file: string, gray: number, width = 60, height = 45): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: gray, g: gray, b: gray } } }).jpeg({ quality: 95 }).toFile(file);
}

async function folder(root: string, perClass: number): Promise<void> {
  for (const [c, cls] of ['cat', 'dog'].entries()) {
    for (let i = 0; i < perClass; i++) await solidJpeg(path.join(root, cls, `${String(i).padStart(3, '0')}.jpg`), 40 + 150 * c);
  }
}

async function collect(loader: StreamingLoader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

function loader(ds: ImageFiles, train: boolean, extra: Partial<ConstructorParameters<typeof StreamingLoader>[1]> = {}): StreamingLoader {
  const t = photoTransforms({ size: 16, augment: train ? 'basic' : 'none', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, train);
  return new StreamingLoader(ds, { batchSize: 5, shuffle: train, seed: 3, ...t, ...extra });
}

test('StreamingLoader: shapes, labels, seeded RandomResizedCrop batches, eval centre crops', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await folder(dir, 6);
    const ds = await openImageFiles('train', { dataDir: dir });
    const train = loader(ds, true);
    assert.equal(train.length, 3);
    const a = await collect(train);
    assert.deepEqual(a.map((b) => b.x.shape), [[5, 3, 16, 16], [5, 3, 16, 16], [2, 3, 16, 16]]);
    const seen = a.flatMap((b) => Array.from(b.indices)).sort((x, y) => x - y);
    assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => i));
    for (const b of a) for (const [k, i] of b.indices.entries()) assert.equal(b.y[k], i < 6 ? 0 : 1);
    // Same seed and epoch: the same batches; another epoch: another order.
    const again = await collect(loader(ds, true));
    assert.deepEqual(again.map((b) => Array.from(b.x.data)), a.map((b) => Array.from(b.x.data)));
    const other = loader(ds, true);
    other.setEpoch(1);
    assert.notDeepEqual((await collect(other)).map((b) => Array.from(b.indices)), a.map((b) => Array.from(b.indices)));
    // A solid image stays solid through any crop: (gray/255 − 0.5) / 0.5, up to JPEG's rounding.
    const evalBatches = await collect(loader(ds, false));
    const first = evalBatches[0]!;
    assert.deepEqual(Array.from(first.indices), [0, 1, 2, 3, 4]);
    for (const v of first.x.data) assert.ok(Math.abs(v - (40 / 255 - 0.5) / 0.5) < 0.03, `eval pixel ${v}`);
  } finally {
    cleanup();
  }
});

test('a corrupt image in the middle: an error naming it, or skipped and counted with skipBadImages', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await folder(dir, 6);
    writeFileSync(path.join(dir, 'cat', '003.jpg'), Buffer.from('not a jpeg at all'));
    const ds = await openImageFiles('train', { dataDir: dir });
    await assert.rejects(collect(loader(ds, false)), (e: Error) => e instanceof CorruptFileError && e.message.includes(path.join('cat', '003.jpg')));
    const skipping = loader(ds, true, { skipBadImages: true });
    const batches = await collect(skipping);
    assert.equal(batches.reduce((n, b) => n + b.y.length, 0), 11);
    assert.deepEqual(skipping.badImages, [path.join(dir, 'cat', '003.jpg')]);
    for (const b of batches) assert.equal(b.x.shape[0], b.y.length);
  } finally {
    cleanup();
  }
});

test('images are decoded per batch, a bounded number ahead: files rewritten mid-epoch are read as they are then', async () => {
  // A loader that decoded everything up front (memory growing with the dataset) would return the
  // old pixels for every batch; this one has read only the batches in flight when the files change.
  const { dir, cleanup } = withTempDir();
  try {
    for (let i = 0; i < 40; i++) await solidJpeg(path.join(dir, 'only', `${String(i).padStart(3, '0')}.jpg`), 0, 20, 20);
    const ds = await openImageFiles('train', { dataDir: dir, cacheIndex: false });
    const l = loader(ds, false, { batchSize: 4, prefetch: 2 });
    const means: number[] = [];
    let b = 0;
    for await (const batch of l) {
      if (b === 0) {
        // Batch 0 is held, batches 1 and 2 are in flight: files from 12 on have not been read.
        for (let i = 12; i < 40; i++) await solidJpeg(path.join(dir, 'only', `${String(i).padStart(3, '0')}.jpg`), 255, 20, 20);
      }
      means.push(batch.x.data.reduce((s, v) => s + v, 0) / batch.x.data.length);
      b++;
    }
    assert.equal(means.length, 10);
    for (const [k, m] of means.entries()) assert.ok(k < 3 ? m < -0.9 : m > 0.9, `batch ${k} mean ${m}`);
  } finally {
    cleanup();
  }
});

test('openPhotoSplits: --val-split holds out a seeded share, and the validation loader alone is the same set', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await folder(dir, 10);
    const o = { dataDir: dir, valSplit: 0.2, seed: 5, imageSize: 16, augment: 'basic' as const };
    const { train, val, valSource } = await openPhotoSplits(o, { batchSize: 4 }, { batchSize: 8 });
    assert.equal(valSource, `20% of folder ${dir}, seed 5`);
    assert.deepEqual([train.count, val.count], [16, 4]);
    assert.equal(val.crop.kind, 'resizeCenterCrop');
    assert.equal(describeEvalTransform(o), 'Resize(18) + CenterCrop(16)');
    const alone = await openPhotoValidation(o, { batchSize: 3 });
    assert.deepEqual([...alone.loader.dataset.files], [...val.dataset.files]);
    assert.equal(new Set([...train.dataset.files, ...val.dataset.files]).size, 20);
  } finally {
    cleanup();
  }
});

test('cacheDecodedBytes keeps decoded originals within the budget; crops of them equal crops from the files', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    await folder(dir, 6);
    // Different pictures, so a mix-up between images would show.
    for (let i = 0; i < 6; i++) await solidJpeg(path.join(dir, 'cat', `${String(i).padStart(3, '0')}.jpg`), 20 * i, 50 + i, 40);
    const ds = await openImageFiles('train', { dataDir: dir });
    const cached = loader(ds, true, { cacheDecodedBytes: 1e9 });
    const first = (await collect(cached)).map((b) => Array.from(b.x.data));
    assert.deepEqual(first, (await collect(loader(ds, true))).map((b) => Array.from(b.x.data)));
    assert.equal(cached.cached.images, 12);
    for (let i = 0; i < 6; i++) await solidJpeg(path.join(dir, 'cat', `${String(i).padStart(3, '0')}.jpg`), 255);
    assert.deepEqual((await collect(cached)).map((b) => Array.from(b.x.data)), first, 'the second pass crops the images in memory');
    const small = loader(ds, true, { cacheDecodedBytes: 60 * 45 * 3 });
    await collect(small);
    // Any one picture fits the budget, no two do (which one depends on which decode finishes first).
    assert.equal(small.cached.images, 1);
    assert.ok(small.cached.bytes <= 60 * 45 * 3);
  } finally {
    cleanup();
  }
});
