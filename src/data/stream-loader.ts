// Batches of image files decoded per batch: each image is read, cropped and resized by sharp on
// libuv's pool (several at once), then the rest of the transform (flips, colour, Normalize) runs
// in the native augmenter. Batches are prepared `prefetch` ahead of the one the caller holds, so
// memory is bounded by the batches in flight, whatever the dataset's size.
import sharp from 'sharp';
import { Tensor } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { augmentBatchAsync, planAugment, type AugmentPlan } from './augment.js';
import { cropOutputSize, decodeCrop, decodeOriginal, type CropSpec, type DecodedOriginal } from './crop-decode.js';
import { CorruptFileError } from './errors.js';
import type { FileIndex } from './file-index.js';
import { EpochLoader, positiveInteger, type Batch, type DataLoaderOptions } from './loader.js';
import { Compose, ToTensor, type Transform } from './transforms.js';

/** A split of an image-file dataset: what to read, how it is labelled and normalized. */
export interface ImageFiles extends FileIndex {
  name: string;
  split: string;
  channels: 1 | 3;
  mean: number[];
  std: number[];
  /** Where the list came from, e.g. 'folder /data/pets/train' or 'labels /data/pets/train.csv'. */
  source: string;
}

/** torchvision's reference scripts normalize photos with ImageNet's statistics. */
export const IMAGENET_STATS = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
export const IMAGENET_GRAY_STATS = { mean: [0.449], std: [0.226] };

export interface StreamingLoaderOptions extends Pick<DataLoaderOptions, 'batchSize' | 'shuffle' | 'dropLast' | 'seed' | 'shard'> {
  /** The crop every image gets from its original (RandomResizedCrop, or Resize + CenterCrop). */
  crop: CropSpec;
  /** Transforms after the crop (flips, colour, ToTensor, Normalize, erasing); default ToTensor. */
  transform?: Transform;
  /** OpenMP threads of the native augmenter (default 1, beside the training step). */
  threads?: number;
  /** Images decoding at once (default 4, libuv's pool size). */
  concurrency?: number;
  /** Batches prepared ahead of the one the caller holds (default 2). */
  prefetch?: number;
  /** Skip files that fail to decode (counted in badImages) instead of stopping. */
  skipBadImages?: boolean;
  /** Keep decoded originals in memory up to this many bytes (0: none): later epochs only crop them. */
  cacheDecodedBytes?: number;
}

/** A first-come queue of at most `limit` tasks running at once. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next task in line.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export class StreamingLoader extends EpochLoader {
  readonly dataset: ImageFiles;
  readonly crop: CropSpec;
  readonly plan: AugmentPlan;
  readonly skipBadImages: boolean;
  /** Files that failed to decode during the current (or last) epoch. */
  badImages: string[] = [];
  private readonly threads: number;
  private readonly prefetch: number;
  private readonly limiter: Limiter;
  private readonly blocks: Uint8Array[] = [];
  private readonly decoded = new Map<number, DecodedOriginal>();
  private readonly cacheBudget: number;
  private cachedBytes = 0;

  constructor(dataset: ImageFiles, opts: StreamingLoaderOptions) {
    super(opts);
    if (dataset.files.length !== dataset.labels.length) {
      throw new RangeError(`StreamingLoader: ${dataset.files.length} files but ${dataset.labels.length} labels`);
    }
    this.dataset = dataset;
    this.threads = positiveInteger(opts.threads ?? 1, 'threads');
    this.prefetch = positiveInteger(opts.prefetch ?? 2, 'prefetch');
    this.limiter = new Limiter(positiveInteger(opts.concurrency ?? 4, 'concurrency'));
    // Images decode side by side on libuv's pool; libvips threads inside each would only
    // oversubscribe the cores.
    sharp.concurrency(1);
    // Every file is read once per epoch: libvips' operation cache would only hold memory.
    sharp.cache(false);
    this.skipBadImages = opts.skipBadImages ?? false;
    this.cacheBudget = opts.cacheDecodedBytes ?? 0;
    if (!(this.cacheBudget >= 0)) throw new RangeError(`StreamingLoader: cacheDecodedBytes must be >= 0 but is ${this.cacheBudget}`);
    this.crop = opts.crop;
    const [height, width] = cropOutputSize(opts.crop);
    this.plan = planAugment(opts.transform ?? new Compose([new ToTensor()]), { channels: dataset.channels, height, width });
  }

  get count(): number {
    return this.dataset.files.length;
  }

  /** The decoded image from the cache, or decoded now and kept while the budget allows; undefined without a cache. */
  private async original(index: number): Promise<DecodedOriginal | undefined> {
    if (this.cacheBudget === 0) return undefined;
    const hit = this.decoded.get(index);
    if (hit || this.cachedBytes >= this.cacheBudget) return hit;
    const original = await decodeOriginal(this.dataset.files.at(index), this.dataset.channels);
    if (this.cachedBytes + original.pixels.length <= this.cacheBudget) {
      this.decoded.set(index, original);
      this.cachedBytes += original.pixels.length;
    }
    return original;
  }

  /** Images held decoded in memory, and their bytes. */
  get cached(): { images: number; bytes: number } {
    return { images: this.decoded.size, bytes: this.cachedBytes };
  }

  /**
   * Decodes the batch's files (in flight together, at most `concurrency` at once), then augments.
   * Sample k's crop draws from new Generator(seeds[k] + 2^32) and the augmenter from seeds[k]:
   * one seed per sample, as the in-memory loader (so sharding gives each sample the same crop).
   */
  private async makeBatch(indices: Int32Array, seeds: Uint32Array): Promise<Batch> {
    const { channels, files, labels } = this.dataset;
    const { height, width } = this.plan.input;
    const per = channels * height * width;
    // Decoded crops live only until the augmenter has read them: their blocks are reused, which
    // keeps the process's memory flat instead of waiting for the garbage collector.
    const block = this.blocks.pop() ?? new Uint8Array(this.batchSize * per);
    const decoded = new Uint8Array(indices.length);
    await Promise.all(Array.from(indices, (index, k) => this.limiter.run(async () => {
      try {
        await decodeCrop(files.at(index), this.crop, channels, new Generator(seeds[k]! + 0x100000000), block, k * per, await this.original(index));
        decoded[k] = 1;
      } catch (err) {
        if (!(this.skipBadImages && err instanceof CorruptFileError)) throw err;
        this.badImages.push(files.at(index));
      }
    })));
    const kept = Int32Array.from(decoded.keys()).filter((k) => decoded[k] === 1);
    const { output } = this.plan;
    let data: Float32Array;
    try {
      data = kept.length === 0 ? new Float32Array(0)
        : await augmentBatchAsync(this.plan, block, kept, Uint32Array.from(kept, (k) => seeds[k]!), this.threads);
    } finally {
      this.blocks.push(block);
    }
    const keptIndices = Int32Array.from(kept, (k) => indices[k]!);
    const y = Int32Array.from(keptIndices, (i) => labels[i]!);
    return { x: new Tensor(data, [kept.length, output.channels, output.height, output.width]), y, indices: keptIndices };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    this.badImages = [];
    const { indices: order, seeds } = this.epochSamples();
    const batches = this.length;
    let started = 0;
    const start = (): Promise<Batch> => {
      const from = started * this.batchSize, to = Math.min((started + 1) * this.batchSize, order.length);
      started++;
      return this.makeBatch(order.slice(from, to), seeds.slice(from, to));
    };
    const ahead: Promise<Batch>[] = [];
    try {
      while (started < Math.min(batches, this.prefetch)) ahead.push(start());
      for (let b = 0; b < batches; b++) {
        const batch = await ahead.shift()!;
        if (started < batches) ahead.push(start());
        if (batch.y.length > 0) yield batch;
      }
    } finally {
      // A caller that stops early (break, an error) leaves the batches ahead unread.
      for (const p of ahead) p.catch(() => undefined);
    }
  }
}
