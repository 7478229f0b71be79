// Batches of a dataset for training: seeded shuffling per epoch, native augmentation of the
// uint8 images straight into a float32 NCHW batch, and one batch prepared ahead on the libuv
// pool while the caller trains on the current one.
import { Tensor } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { weightedDraw } from './weighted-sampler.js';
import type { ImageDataset } from './dataset.js';
import { augmentBatchAsync, drawSeeds, outputLength, planAugment, type AugmentPlan } from './augment.js';
import { Compose, ToTensor, type Transform } from './transforms.js';
import { checkShard, shardLength, shardPositions, type Shard } from './distributed-sampler.js';

export interface DataLoaderOptions {
  /** Samples per batch (torch default 1). */
  batchSize?: number;
  shuffle?: boolean;
  /** Leave out the last, smaller batch. */
  dropLast?: boolean;
  /** With the epoch, fixes the order and every augmentation: same seed → same batches. */
  seed?: number;
  /** Default: ToTensor only. */
  transform?: Transform;
  /** OpenMP threads for the augmenter (default 1: it prepares the next batch beside the training
   *  step, and a second team would compete with the step's threads for the cores). */
  threads?: number;
  /** This rank's share of every epoch in a data-parallel job (see distributed-sampler.ts). */
  shard?: Shard;
  /** Two batch storages taken in turn instead of a new one per batch (the trainer's steady state):
   *  a batch's x is overwritten once the batch after the next is asked for, so keep no batch past its step. */
  reuseBatchStorage?: boolean;
}

export interface Batch {
  /** N × C × H × W float32. */
  x: Tensor;
  y: Int32Array;
  /** Dataset indices of the samples, in batch order. */
  indices: Int32Array;
}

export function positiveInteger(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`DataLoader: ${name} must be a positive integer but is ${v}`);
  return v;
}

/** What every loader shares: batch size, seeded order and per-sample seeds per epoch, sharding. */
export abstract class EpochLoader implements AsyncIterable<Batch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly shard: Shard | undefined;
  /** Set: each epoch draws `count` samples with replacement in proportion to these (WeightedRandomSampler). */
  sampleWeights: ArrayLike<number> | null = null;
  private epoch = 0;

  constructor(opts: Pick<DataLoaderOptions, 'batchSize' | 'shuffle' | 'dropLast' | 'seed' | 'shard'>) {
    this.batchSize = positiveInteger(opts.batchSize ?? 1, 'batchSize');
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw new RangeError(`DataLoader: seed must be an integer but is ${this.seed}`);
    this.shard = opts.shard && checkShard(opts.shard);
  }

  /** Samples in the whole dataset. */
  abstract get count(): number;
  /** The augmenter's plan: its output shape is each batch's C×H×W. */
  abstract readonly plan: AugmentPlan;
  abstract [Symbol.asyncIterator](): AsyncGenerator<Batch>;

  /** Like DistributedSampler.set_epoch: each epoch has its own order and augmentations. */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new RangeError(`DataLoader: epoch must be a non-negative integer but is ${epoch}`);
    this.epoch = epoch;
  }

  getEpoch(): number {
    return this.epoch;
  }

  /** Samples this loader yields per epoch (this rank's shard when sharded). */
  get samples(): number {
    return this.shard ? shardLength(this.count, this.shard) : this.count;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.samples / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The generator of one epoch: its order first, then one seed per sample, batch by batch. */
  private epochGenerator(): Generator {
    const base = new Generator(this.seed);
    const a = base.nextUint32(), b = base.nextUint32();
    const mixed = (a ^ Math.imul(this.epoch + 1, 0x9e3779b1)) >>> 0;
    return new Generator(mixed * 0x200000 + (b >>> 11));
  }

  /** The dataset indices of this epoch, in order (a seeded Fisher–Yates shuffle when shuffle, or weighted draws). */
  order(gen = this.epochGenerator()): Int32Array {
    if (this.sampleWeights) {
      if (this.sampleWeights.length !== this.count) throw new RangeError(`DataLoader: ${this.sampleWeights.length} sample weights for ${this.count} samples`);
      return weightedDraw(this.sampleWeights, this.count, gen);
    }
    const order = Int32Array.from({ length: this.count }, (_, i) => i);
    if (this.shuffle) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = gen.randint(i + 1);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    }
    return order;
  }

  /**
   * The samples of this epoch and their augmentation seeds, in order. Seeds follow the order's
   * positions, so a sample gets the augmentation a single process would give it, on any rank.
   */
  protected epochSamples(): { indices: Int32Array; seeds: Uint32Array } {
    const gen = this.epochGenerator();
    const order = this.order(gen);
    if (!this.shard) return { indices: order, seeds: drawSeeds(gen, order.length) };
    const positions = shardPositions(order.length, this.shard);
    const seeds = drawSeeds(gen, positions.length ? positions[positions.length - 1] + 1 : 0);
    return {
      indices: positions.map((p) => order[p % order.length]),
      seeds: Uint32Array.from(positions, (p) => seeds[p]),
    };
  }
}

export class DataLoader extends EpochLoader {
  readonly dataset: ImageDataset;
  readonly plan: AugmentPlan;
  private readonly threads: number | undefined;
  /** With reuseBatchStorage: the two batch storages, full batches long. */
  private readonly batchStorage: Float32Array<ArrayBuffer>[] | null;

  constructor(dataset: ImageDataset, opts: DataLoaderOptions = {}) {
    super(opts);
    this.batchStorage = opts.reuseBatchStorage ? [] : null;
    const { count, channels, height, width } = dataset;
    if (dataset.images.length !== count * channels * height * width || dataset.labels.length !== count) {
      throw new RangeError(`DataLoader: dataset '${dataset.name}' holds ${dataset.images.length} bytes and ${dataset.labels.length} labels, not ${count} images of ${channels}x${height}x${width}`);
    }
    this.dataset = dataset;
    this.threads = opts.threads === undefined ? undefined : positiveInteger(opts.threads, 'threads');
    this.plan = planAugment(opts.transform ?? new Compose([new ToTensor()]), { channels, height, width });
  }

  get count(): number {
    return this.dataset.count;
  }

  /** Batch b's output storage: new, or with reuseBatchStorage the one batch b - 2 had. */
  private storageFor(b: number, length: number): Float32Array<ArrayBuffer> | undefined {
    if (!this.batchStorage) return undefined;
    const full = outputLength(this.plan, this.batchSize);
    this.batchStorage[b % 2] ??= new Float32Array(full);
    return this.batchStorage[b % 2].subarray(0, length);
  }

  private async makeBatch(b: number, indices: Int32Array, seeds: Uint32Array): Promise<Batch> {
    const { images, labels } = this.dataset;
    const out = this.storageFor(b, outputLength(this.plan, indices.length));
    const data = await augmentBatchAsync(this.plan, images, indices, seeds, this.threads ?? 1, out);
    const { channels, height, width } = this.plan.output;
    const y = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) y[k] = labels[indices[k]];
    return { x: new Tensor(data, [indices.length, channels, height, width]), y, indices };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    const { indices: order, seeds } = this.epochSamples();
    const batches = this.length;
    const start = (b: number): Promise<Batch> => {
      const from = b * this.batchSize, to = Math.min((b + 1) * this.batchSize, order.length);
      return this.makeBatch(b, order.slice(from, to), seeds.slice(from, to));
    };
    let next: Promise<Batch> | null = batches > 0 ? start(0) : null;
    try {
      for (let b = 0; b < batches; b++) {
        const batch = await next!;
        // One batch in flight: started as the caller gets this one, so it is made while the
        // caller trains (without competing with this batch for the cores).
        next = b + 1 < batches ? start(b + 1) : null;
        yield batch;
      }
    } finally {
      // A caller that stops early (break, an error) leaves the batch ahead unread.
      next?.catch(() => undefined);
    }
  }
}
