// Keeping decoded images in memory automatically: the decoded size estimated from the index (file
// sizes × decoded bytes per file byte on a sample of headers) against a memory budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { estimateDecodedBytes } from '../../src/data/decoded-size.js';
import { openImageFiles } from '../../src/data/image-files.js';
import { openPhotoSplits, planDecodedCache } from '../../src/data/photo-splits.js';
import { withTempDir } from '../helpers/tmp.js';

/** n noisy JPEGs or PNGs (they compress alike, so file size follows pixel count) of alternating sizes; their decoded RGB bytes. */
async function noisyFolder(root: string, n: number, format: 'jpg' | 'png' = 'jpg'): Promise<number> {
  let decoded = 0;
  for (let i = 0; i < n; i++) {
    const [width, height] = i % 2 ? [64, 48] : [96, 80];
    mkdirSync(path.join(root, `c${i % 3}`), { recursive: true });
    await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 200 }, noise: { type: 'gaussian', mean: 128, sigma: 50 } } })
      .toFormat(format === 'jpg' ? 'jpeg' : 'png', { quality: 90 }).toFile(path.join(root, `c${i % 3}`, `${String(i).padStart(3, '0')}.${format}`));
    decoded += width * height * 3;
  }
  return decoded;
}

test('estimateDecodedBytes: exact when every file is sampled, close from a sample of headers scaled by the file sizes', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    const decoded = await noisyFolder(dir, 40);
    const files = await openImageFiles('train', { dataDir: dir });
    assert.equal(await estimateDecodedBytes(files, 3, 40), decoded);
    assert.equal(await estimateDecodedBytes(files, 1, 64), decoded / 3);
    const sampled = await estimateDecodedBytes(files, 3, 8);
    assert.ok(Math.abs(sampled / decoded - 1) < 0.15, `estimated ${sampled} from 8 headers, decoded ${decoded}`);
  } finally {
    cleanup();
  }
});

test('planDecodedCache keeps decoded images when all are estimated to fit the budget, else decodes per batch; --cache-decoded keeps what fits', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    // PNGs: JPEGs go to the native decoder, which crops from the file faster than sharp from memory.
    const decoded = await noisyFolder(dir, 12, 'png');
    const files = await openImageFiles('train', { dataDir: dir });
    const fits = await planDecodedCache([files], { cacheBudget: 2 * decoded });
    assert.deepEqual(fits.bytes, [2 * decoded]);
    assert.match(fits.note, /^decoded images kept in memory once read \(about 1 MB decoded, within the 1 MB budget\)$/);
    const over = await planDecodedCache([files], { cacheBudget: decoded - 1 });
    assert.deepEqual(over.bytes, [0]);
    assert.match(over.note, /^images decoded per batch \(about 1 MB decoded, over the 1 MB budget for keeping them\)$/);
    const forced = await planDecodedCache([files], { cacheDecoded: true, cacheBudget: decoded / 2 });
    assert.deepEqual(forced.bytes, [decoded / 2]);
    assert.match(forced.note, /--cache-decoded/);
    assert.deepEqual((await planDecodedCache([files], { cacheDecoded: false, cacheBudget: 1e12 })).bytes, [0]);
    // Two splits share the budget in proportion to their estimates.
    const both = await planDecodedCache([files, files], { cacheBudget: 4 * decoded });
    assert.deepEqual(both.bytes, [2 * decoded, 2 * decoded]);

    // Through a run's loaders: the training loader holds every image after one epoch under the budget, none over it.
    const o = { dataDir: dir, valSplit: 0.25, seed: 1, imageSize: 16, augment: 'basic' as const };
    for (const [budget, images] of [[2 * decoded, 9], [decoded / 4, 0]] as const) {
      const { train, dataNote } = await openPhotoSplits({ ...o, cacheBudget: budget }, { batchSize: 4 }, { batchSize: 4 });
      for await (const batch of train) assert.ok(batch.y.length > 0);
      assert.equal(train.cached.images, images, dataNote);
    }
    // JPEGs the native decoder reads are not kept automatically; --cache-decoded still keeps them.
    const jpegDir = withTempDir();
    try {
      await noisyFolder(jpegDir.dir, 12);
      const jpegs = await openImageFiles('train', { dataDir: jpegDir.dir });
      const native = await planDecodedCache([jpegs], { cacheBudget: 1e12 });
      assert.deepEqual(native.bytes, [0]);
      assert.match(native.note, /^images decoded per batch \(JPEGs by libjpeg-turbo [\d.]+, faster than cropping kept images\)$/);
      assert.deepEqual((await planDecodedCache([jpegs], { cacheDecoded: true, cacheBudget: 1e12 })).bytes, [1e12]);
    } finally {
      jpegDir.cleanup();
    }
  } finally {
    cleanup();
  }
});
