// `cnn bench data` reports what it measured (not how fast: no timed tests), for synthetic images
// and for an image folder streamed from disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { benchData } from '../../src/bench/data.js';
import { benchImageFolder } from '../../src/bench/image-folder.js';
import { withTempDir } from '../helpers/tmp.js';

test('benchData reports images/s for the CIFAR preset', () => {
  const r = benchData({ batchSize: 16, threads: 1 });
  assert.deepEqual(Object.keys(r), ['bench', 'preset', 'augment', 'batch_size', 'threads', 'images_per_sec']);
  assert.equal(r.bench, 'data');
  assert.equal(r.preset, 'cifar10');
  assert.equal(r.threads, 1);
  assert.ok(Number.isFinite(r.images_per_sec) && r.images_per_sec > 0);
});

test('benchImageFolder streams a folder with the training crops and reports images/s and peak RSS', async () => {
  const { dir, cleanup } = withTempDir();
  try {
    for (const [k, cls] of ['a', 'b'].entries()) {
      mkdirSync(path.join(dir, cls));
      for (let i = 0; i < 3; i++) {
        await sharp({ create: { width: 40 + i, height: 30, channels: 3, background: { r: 100 * k, g: 50, b: 0 } } }).jpeg().toFile(path.join(dir, cls, `${i}.jpg`));
      }
    }
    const r = await benchImageFolder({ dataDir: dir, imageSize: 24, batchSize: 4, threads: 2 });
    assert.deepEqual([r.bench, r.dataset, r.images, r.image_size, r.augment, r.batch_size, r.threads], ['data', 'imagefolder', 6, 24, 'basic', 4, 2]);
    assert.ok(Number.isFinite(r.images_per_sec) && r.images_per_sec > 0);
    assert.ok(r.peak_rss_mb > 0);
    assert.match(r.decoder, /^(libjpeg-turbo \d|sharp \(libvips)/);
    assert.equal((await benchImageFolder({ dataDir: dir, imageSize: 24, batchSize: 4, limit: 4 })).images, 4);
  } finally {
    cleanup();
  }
});
