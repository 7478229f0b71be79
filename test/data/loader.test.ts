// DataLoader: batches, shuffling per epoch, drop-last, determinism by seed, prefetching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import * as T from '../../src/data/transforms.js';
import { augmentBatchAsync, augmentBatchReference, planAugment } from '../../src/data/augment.js';
import { presetTransform } from '../../src/data/presets.js';
import { Generator } from '../../src/tensor/random.js';
import { assertClose } from '../helpers/assert.js';

function syntheticDataset(count: number, channels = 3, height = 8, width = 6): ImageDataset {
  const g = new Generator(31);
  const images = new Uint8Array(count * channels * height * width);
  for (let i = 0; i < images.length; i++) images[i] = g.nextUint32() & 255;
  // Label k makes a sample recognisable: labels[i] = 1000 + i.
  const labels = Int32Array.from({ length: count }, (_, i) => 1000 + i);
  return { name: 'synthetic', split: 'train', images, labels, count, channels, height, width,
    classes: [], mean: new Array(channels).fill(0.5), std: new Array(channels).fill(0.25) };
}

async function collect(loader: DataLoader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

test('without shuffle, batches are in order; the last batch is smaller unless dropLast', async () => {
  const ds = syntheticDataset(10);
  const batches = await collect(new DataLoader(ds, { batchSize: 4 }));
  assert.deepEqual(batches.map((b) => [...b.indices]), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.deepEqual([...batches[2].y], [1008, 1009]);
  assert.deepEqual([...batches[0].x.shape], [4, 3, 8, 6]);
  assert.deepEqual([...batches[2].x.shape], [2, 3, 8, 6]);
  // ToTensor only by default: pixels / 255.
  assertClose(batches[1].x.data.subarray(0, 144), Float32Array.from(ds.images.subarray(4 * 144, 5 * 144), (v) => v / 255), { atol: 1e-7, rtol: 0 }, 'to tensor');
  const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.deepEqual((await collect(dropped)).map((b) => b.indices.length), [4, 4]);
  assert.equal(new DataLoader(ds, { batchSize: 4 }).length, 3);
  assert.equal(new DataLoader(ds).length, 10);
  assert.equal((await collect(new DataLoader(syntheticDataset(3), { batchSize: 4, dropLast: true }))).length, 0);
});

test('shuffle is a permutation, differs per epoch, and repeats with the seed', async () => {
  const ds = syntheticDataset(37);
  const loader = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 7 });
  const epoch0 = (await collect(loader)).flatMap((b) => [...b.indices]);
  assert.deepEqual([...epoch0].sort((a, b) => a - b), Array.from({ length: 37 }, (_, i) => i));
  assert.notDeepEqual(epoch0, Array.from({ length: 37 }, (_, i) => i));
  const again = (await collect(loader)).flatMap((b) => [...b.indices]);
  assert.deepEqual(again, epoch0, 'same epoch, same order');
  loader.setEpoch(1);
  const epoch1 = (await collect(loader)).flatMap((b) => [...b.indices]);
  assert.notDeepEqual(epoch1, epoch0);
  assert.deepEqual([...epoch1].sort((a, b) => a - b), Array.from({ length: 37 }, (_, i) => i));
  const otherSeed = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 8 });
  assert.notDeepEqual((await collect(otherSeed)).flatMap((b) => [...b.indices]), epoch0);
  // Labels follow their images.
  for (const b of await collect(loader)) assert.deepEqual([...b.y], [...b.indices].map((i) => 1000 + i));
});

test('augmented batches are reproducible by seed and thread count, and match the reference', async () => {
  const ds = syntheticDataset(21);
  const transform = presetTransform({ ...ds, name: 'cifar10' }, 'strong');
  const make = (threads: number, seed = 3) => new DataLoader(ds, { batchSize: 8, shuffle: true, seed, transform, threads });
  const a = await collect(make(1));
  const b = await collect(make(2));
  assert.equal(a.length, 3);
  for (let k = 0; k < a.length; k++) {
    assert.deepEqual(a[k].indices, b[k].indices);
    assert.deepEqual(a[k].x.data, b[k].x.data, `batch ${k}`);
  }
  const c = await collect(make(1, 4));
  assert.notDeepEqual(c[0].x.data, a[0].x.data);
  // Two epochs of one loader see different augmentations of the same image.
  const loader = make(2);
  const first = await collect(loader);
  loader.setEpoch(5);
  const later = await collect(loader);
  assert.notDeepEqual(later[0].x.data, first[0].x.data);

  // The seeds the loader used are its epoch generator's, after the shuffle: rebuild them.
  const epoch0 = make(1);
  const base = new Generator(3);
  const x = base.nextUint32(), y = base.nextUint32();
  const gen = new Generator(((x ^ Math.imul(1, 0x9e3779b1)) >>> 0) * 0x200000 + (y >>> 11));
  const order = epoch0.order(gen);
  assert.deepEqual([...order.subarray(0, 8)], [...a[0].indices]);
  for (const batch of a) {
    const seeds = Uint32Array.from(batch.indices, () => gen.nextUint32());
    const want = augmentBatchReference(transform, ds, ds.images, batch.indices, seeds);
    assertClose(batch.x.data, want, { atol: 2e-5, rtol: 1e-5 }, 'loader vs reference');
  }
});

test('native augmentation runs off the JS thread, and a loader stopped early leaves nothing behind', async () => {
  // Enough work (hundreds of milliseconds) that the event loop turns before it can finish.
  const ds = syntheticDataset(256, 3, 64, 64);
  const plan = planAugment(new T.Compose([new T.RandomRotation(30, { interpolation: 'bilinear' })]), ds);
  let ticked = false;
  setImmediate(() => { ticked = true; });
  const seeds = new Uint32Array(256).fill(1);
  const pending = augmentBatchAsync(plan, ds.images, Int32Array.from({ length: 256 }, (_, i) => i), seeds, 1);
  assert.equal(ticked, false);
  const out = await pending;
  assert.ok(ticked, 'the event loop ran while the batch was augmented');
  assert.equal(out.length, 256 * 3 * 64 * 64);

  const loader = new DataLoader(ds, { batchSize: 16, shuffle: true });
  const it = loader[Symbol.asyncIterator]();
  assert.equal((await it.next()).done, false);
  await it.return(undefined);  // batch 2 was in flight
});

test('bad loader options are refused', () => {
  const ds = syntheticDataset(4);
  assert.throws(() => new DataLoader(ds, { batchSize: 0 }), RangeError);
  assert.throws(() => new DataLoader(ds, { batchSize: 1.5 }), RangeError);
  assert.throws(() => new DataLoader(ds, { seed: 0.5 }), RangeError);
  assert.throws(() => new DataLoader(ds, { transform: new T.RandomCrop(20) }), RangeError);
  assert.throws(() => new DataLoader({ ...ds, count: 5 }), RangeError);
  assert.throws(() => new DataLoader(ds).setEpoch(-1), RangeError);
});

test('reuseBatchStorage: the same batches from two storages taken in turn, across epochs', async () => {
  const ds = syntheticDataset(11);
  const transform = presetTransform({ ...ds, name: 'cifar10' }, 'basic');
  const plain = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 5, transform });
  const reusing = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 5, transform, reuseBatchStorage: true });
  const buffers: ArrayBufferLike[] = [];
  for (const epoch of [0, 1]) {
    plain.setEpoch(epoch);
    reusing.setEpoch(epoch);
    const expected = await collect(plain);
    let b = 0;
    // Each batch is read before the next is asked for, as the trainer does.
    for await (const batch of reusing) {
      assert.deepEqual(batch.x.shape, expected[b].x.shape);
      assert.deepEqual(batch.x.data, expected[b].x.data, `epoch ${epoch} batch ${b}`);
      assert.deepEqual(batch.y, expected[b].y);
      buffers.push(batch.x.data.buffer);
      b++;
    }
  }
  assert.equal(new Set(buffers).size, 2);
});
