// Augmented images per second through the native batch augmenter with a dataset preset, on
// synthetic uint8 images (no dataset needed).
import { getThreads } from '../tensor/native.js';
import { Generator } from '../tensor/random.js';
import { augmentBatch, drawSeeds, planAugment } from '../data/augment.js';
import { presetTransform, type AugmentLevel } from '../data/presets.js';
import { timeMedian } from './timing.js';

export interface DataBenchOptions {
  preset?: 'cifar10';
  augment?: AugmentLevel;
  batchSize?: number;
  threads?: number;
}

export interface DataBenchResult {
  bench: 'data';
  preset: string;
  augment: AugmentLevel;
  batch_size: number;
  threads: number;
  images_per_sec: number;
}

export function benchData(opts: DataBenchOptions = {}): DataBenchResult {
  const preset = opts.preset ?? 'cifar10';
  const augment = opts.augment ?? 'basic';
  const batchSize = opts.batchSize ?? 256;
  const threads = opts.threads ?? getThreads();
  const shape = { channels: 3, height: 32, width: 32 };
  const transform = presetTransform({ name: preset, ...shape, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, augment);
  const plan = planAugment(transform, shape);
  const g = new Generator(1);
  const count = 4 * batchSize;
  const images = new Uint8Array(count * 3 * 32 * 32);
  for (let i = 0; i < images.length; i++) images[i] = g.nextUint32() & 255;
  const out = new Float32Array(batchSize * 3 * 32 * 32);
  let batch = 0;
  const seconds = timeMedian(() => {
    const indices = Int32Array.from({ length: batchSize }, (_, k) => ((batch * batchSize) + k) % count);
    augmentBatch(plan, images, indices, drawSeeds(g, batchSize), threads, out);
    batch++;
  }, { warmup: 3, minReps: 10, maxReps: 200, budgetSeconds: 1 });
  return { bench: 'data', preset, augment, batch_size: batchSize, threads, images_per_sec: batchSize / seconds };
}
