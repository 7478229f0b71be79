// DistributedSampler semantics: one seeded order on every rank, strided shards, the last shard
// padded by wrapping for training and not for evaluation; augmentation seeds follow the sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shardPositions, shardLength } from '../../src/data/distributed-sampler.js';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import * as T from '../../src/data/transforms.js';
import { Generator } from '../../src/tensor/random.js';

function dataset(count: number): ImageDataset {
  const g = new Generator(5);
  const images = Uint8Array.from({ length: count * 3 * 6 * 6 }, () => g.nextUint32() & 255);
  return { name: 'synthetic', split: 'train', images, labels: Int32Array.from({ length: count }, (_, i) => i), count, channels: 3, height: 6, width: 6,
    classes: [], mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
}

async function collect(loader: DataLoader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

test('strided shards of 10 over 3 ranks: padded by wrapping for training, exact for evaluation', () => {
  assert.deepEqual([0, 1, 2].map((rank) => [...shardPositions(10, { rank, size: 3, pad: true })]), [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]]);
  assert.deepEqual([0, 1, 2].map((rank) => [...shardPositions(10, { rank, size: 3, pad: false })]), [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]);
  assert.equal(shardLength(10, { rank: 2, size: 3, pad: true }), 4);
  assert.equal(shardLength(2, { rank: 2, size: 3, pad: false }), 0);
  assert.throws(() => new DataLoader(dataset(4), { shard: { rank: 3, size: 3, pad: true } }), /rank must be an integer in \[0, 2\]/);
});

test('the shards of a shuffled epoch are the 1-process order split by position, each sample with its 1-process augmentation', async () => {
  const ds = dataset(11);
  const transform = new T.Compose([new T.RandomCrop(6, { padding: 2 }), new T.RandomHorizontalFlip(), new T.ToTensor()]);
  const whole = new DataLoader(ds, { batchSize: 11, shuffle: true, seed: 3, transform });
  whole.setEpoch(2);
  const [all] = await collect(whole);
  const perImage = 3 * 6 * 6;
  for (const pad of [true, false]) {
    const seen: number[] = [];
    for (let rank = 0; rank < 2; rank++) {
      const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 3, transform, shard: { rank, size: 2, pad } });
      loader.setEpoch(2);
      const batches = await collect(loader);
      assert.equal(loader.length, batches.length);
      const indices = batches.flatMap((b) => [...b.indices]);
      const positions = [...shardPositions(11, { rank, size: 2, pad })];
      assert.deepEqual(indices, positions.map((p) => all.indices[p % 11]));
      let k = 0;
      for (const b of batches) {
        for (let i = 0; i < b.indices.length; i++, k++) {
          if (positions[k] >= 11) continue; // padding draws its own augmentation
          assert.deepEqual(b.x.data.subarray(i * perImage, (i + 1) * perImage), all.x.data.subarray(positions[k] * perImage, (positions[k] + 1) * perImage));
        }
      }
      seen.push(...indices);
    }
    // Training covers every sample, one repeated; evaluation covers each exactly once.
    assert.equal(seen.length, pad ? 12 : 11);
    assert.equal(new Set(seen).size, 11);
  }
});
