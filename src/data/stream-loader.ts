// Batches of image files decoded per batch: each image is read, cropped and resized on libuv's
// pool (JPEGs by the addon's libjpeg-turbo decoder, the whole batch in one call; other files, or
// every file without that decoder, by sharp one at a time, several at once), then the rest of the transform (flips, colour, Normalize) runs
// in the native augmenter. Batches are prepared `prefetch` ahead of the one the caller holds, so
// memory is bounded by the batches in flight, whatever the dataset's size.
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { Tensor } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { augmentBatchAsync, planAugment, type AugmentPlan } from './augment.js';
import { cropOutputSize, decodeCrop, decodeOriginal, type CropSpec, type DecodedOriginal } from './crop-decode.js';
import { CorruptFileError } from './errors.js';
import type { FileIndex } from './file-index.js';
import { decodeJpegCrops, nativeJpegDecoder, type CropJob } from './jpeg-crops.js';
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
  /** Images decoding at once (default 4, libuv's pool size): sharp's files, or the JPEG decoder's OpenMP threads (at most the cores). */
  concurrency?: number;
  /** Batches prepared ahead of the one the caller holds (default 2). */
  prefetch?: number;
  /** Skip files that fail to decode (counted in badImages) instead of stopping. */
  skipBadImages?: boolean;
  /** Keep decoded originals in memory up to this many bytes (0: none): later epochs only crop them. */
  cacheDecodedBytes?: number;
  /** 'native': JPEGs through the addon's decoder when it has one (the default); 'sharp': every file through sharp. */
  decoder?: 'native' | 'sharp';
}

/** The decoder a loader uses for JPEGs: the addon's ('libjpeg-turbo 2.1.5') or sharp's. */
export function jpegDecoderName(decoder: 'native' | 'sharp' = 'native'): string {
  return decoder === 'native' && nativeJpegDecoder ? nativeJpegDecoder : `sharp (libvips ${sharp.versions.vips})`;
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

interface FusedTransform {
  flipP: number;
  mean: number[];
  std: number[];
}

/** RandomHorizontalFlip(p)? then ToTensor + Normalize? on 3 channels, else null (the augmenter applies the rest). */
function fusedTransform(plan: AugmentPlan): FusedTransform | null {
  const { input, output, ops } = plan;
  if (input.channels !== 3 || output.channels !== 3 || output.height !== input.height || output.width !== input.width) return null;
  const fused: FusedTransform = { flipP: 0, mean: [0, 0, 0], std: [1, 1, 1] };
  let i = 0;
  const flip = ops[i];
  if (flip?.kind === 'horizontalFlip') fused.flipP = flip.p, i++;
  const normalize = ops[i];
  if (normalize?.kind === 'normalize') fused.mean = normalize.mean, fused.std = normalize.std, i++;
  return i === ops.length ? fused : null;
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
  private readonly nativeGate = new Limiter(1);
  private readonly concurrency: number;
  /** JPEGs go to the addon's decoder (3 channels, no decoded cache). */
  private readonly nativeJpeg: boolean;
  /** The transform after the crop when the JPEG decoder can apply it itself (a flip, Normalize), else null. */
  private readonly fused: FusedTransform | null;
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
    this.concurrency = positiveInteger(opts.concurrency ?? 4, 'concurrency');
    this.limiter = new Limiter(this.concurrency);
    // Images decode side by side on libuv's pool; libvips threads inside each would only
    // oversubscribe the cores.
    sharp.concurrency(1);
    // Every file is read once per epoch: libvips' operation cache would only hold memory.
    sharp.cache(false);
    this.skipBadImages = opts.skipBadImages ?? false;
    this.cacheBudget = opts.cacheDecodedBytes ?? 0;
    if (!(this.cacheBudget >= 0)) throw new RangeError(`StreamingLoader: cacheDecodedBytes must be >= 0 but is ${this.cacheBudget}`);
    this.crop = opts.crop;
    if (opts.decoder !== undefined && opts.decoder !== 'native' && opts.decoder !== 'sharp') {
      throw new RangeError(`StreamingLoader: decoder must be 'native' or 'sharp' but is '${String(opts.decoder)}'`);
    }
    // Gray datasets keep sharp's luma (PIL's convert('L')), and the decoded cache keeps sharp's originals.
    this.nativeJpeg = (opts.decoder ?? 'native') === 'native' && nativeJpegDecoder !== null && dataset.channels === 3 && this.cacheBudget === 0;
    const [height, width] = cropOutputSize(opts.crop);
    this.plan = planAugment(opts.transform ?? new Compose([new ToTensor()]), { channels: dataset.channels, height, width });
    this.fused = fusedTransform(this.plan);
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
   * Decodes the batch's files, then augments. Sample k's crop draws from new Generator(seeds[k] + 2^32)
   * and the augmenter from seeds[k]: one seed per sample, as the in-memory loader (so sharding
   * gives each sample the same crop).
   */
  private async makeBatch(indices: Int32Array, seeds: Uint32Array): Promise<Batch> {
    const { output } = this.plan;
    const { data, kept } = this.nativeJpeg ? await this.decodeNative(indices, seeds) : await this.decodeWithSharp(indices, seeds);
    const keptIndices = Int32Array.from(kept, (k) => indices[k]!);
    const y = Int32Array.from(keptIndices, (i) => this.dataset.labels[i]!);
    return { x: new Tensor(data, [kept.length, output.channels, output.height, output.width]), y, indices: keptIndices };
  }

  /** A failed file: counted when skipping bad images, else the batch's error. */
  private failed(file: string, err: unknown): void {
    if (!(this.skipBadImages && err instanceof CorruptFileError)) throw err;
    this.badImages.push(file);
  }

  /** Sample k's crop generator. */
  private static cropGenerator(seeds: Uint32Array, k: number): Generator {
    return new Generator(seeds[k]! + 0x100000000);
  }

  /**
   * Samples `slots` of the batch decoded by sharp (at most `concurrency` at once) as uint8 crops into
   * block at slot · per; returns those that decoded.
   */
  private async sharpCrops(indices: Int32Array, seeds: Uint32Array, slots: readonly number[], block: Uint8Array): Promise<number[]> {
    const { channels, files } = this.dataset;
    const per = channels * this.plan.input.height * this.plan.input.width;
    const done: number[] = [];
    await Promise.all(slots.map((k) => this.limiter.run(async () => {
      const index = indices[k]!;
      try {
        await decodeCrop(files.at(index), this.crop, channels, StreamingLoader.cropGenerator(seeds, k), block, k * per, await this.original(index));
        done.push(k);
      } catch (err) {
        this.failed(files.at(index), err);
      }
    })));
    return done.sort((a, b) => a - b);
  }

  /** Every file through sharp, then the augmenter over the decoded ones. */
  private async decodeWithSharp(indices: Int32Array, seeds: Uint32Array): Promise<{ data: Float32Array; kept: Int32Array }> {
    const per = this.dataset.channels * this.plan.input.height * this.plan.input.width;
    // Decoded crops live only until the augmenter has read them: their blocks are reused, which
    // keeps the process's memory flat instead of waiting for the garbage collector.
    const block = this.blocks.pop() ?? new Uint8Array(this.batchSize * per);
    const kept = Int32Array.from(await this.sharpCrops(indices, seeds, Array.from(indices.keys()), block));
    try {
      const data = kept.length === 0 ? new Float32Array(0)
        : await augmentBatchAsync(this.plan, block, kept, Uint32Array.from(kept, (k) => seeds[k]!), this.threads);
      return { data, kept };
    } finally {
      this.blocks.push(block);
    }
  }

  /**
   * JPEGs through the addon's decoder, the whole batch in one call with `concurrency` OpenMP threads,
   * the rest through sharp. When the transform after the crop is only a flip and Normalize, the
   * decoder writes the batch's floats itself (the flip drawn from seeds[k] as the augmenter draws
   * it): the augmenter's pass cost as much as decoding a 500×375 JPEG's crop.
   */
  private async decodeNative(indices: Int32Array, seeds: Uint32Array): Promise<{ data: Float32Array; kept: Int32Array }> {
    const { files } = this.dataset;
    const fused = this.fused;
    const jobs: CropJob[] = Array.from(indices, (index, k) => ({
      file: files.at(index), slot: k, gen: StreamingLoader.cropGenerator(seeds, k),
      flip: fused !== null && new Generator(seeds[k]!).random() < fused.flipP,
    }));
    const n = indices.length;
    const decoded = new Uint8Array(n).fill(1);
    // One batch decodes at a time, on all `concurrency` threads: batches side by side would only
    // share the cores and hold another batch's memory (38 MB of floats at 224). The next batch's
    // files are read meanwhile, so its call starts as soon as this one ends.
    const gate = <T>(call: () => Promise<T>) => this.nativeGate.run(call);
    // More OpenMP threads than cores would only take turns.
    const threads = Math.min(this.concurrency, availableParallelism());
    const crops = fused ? await decodeJpegCrops(jobs, this.crop, n, threads, { floats: true, mean: fused.mean, std: fused.std }, gate)
      : await decodeJpegCrops(jobs, this.crop, n, threads, undefined, gate);
    for (const { job, error } of crops.failed) {
      decoded[job.slot] = 0;
      this.failed(job.file, error);
    }
    const viaSharp = crops.others.map((job) => job.slot);
    for (const k of viaSharp) decoded[k] = 0;
    const outPer = 3 * this.plan.output.height * this.plan.output.width;
    let data: Float32Array;
    if (crops.pixels instanceof Float32Array) {
      data = crops.pixels;
      if (viaSharp.length > 0) {
        // Files sharp decodes (PNGs, CMYK JPEGs) go through the augmenter and join the decoder's floats.
        const block = this.blocks.pop() ?? new Uint8Array(this.batchSize * 3 * this.plan.input.height * this.plan.input.width);
        try {
          const done = Int32Array.from(await this.sharpCrops(indices, seeds, viaSharp, block));
          const floats = done.length === 0 ? new Float32Array(0)
            : await augmentBatchAsync(this.plan, block, done, Uint32Array.from(done, (k) => seeds[k]!), this.threads);
          for (const [j, k] of done.entries()) {
            data.set(floats.subarray(j * outPer, (j + 1) * outPer), k * outPer);
            decoded[k] = 1;
          }
        } finally {
          this.blocks.push(block);
        }
      }
    } else {
      const block = crops.pixels;
      for (const k of await this.sharpCrops(indices, seeds, viaSharp, block)) decoded[k] = 1;
      const done = Int32Array.from(decoded.keys()).filter((k) => decoded[k] === 1);
      return { data: done.length === 0 ? new Float32Array(0)
        : await augmentBatchAsync(this.plan, block, done, Uint32Array.from(done, (k) => seeds[k]!), this.threads), kept: done };
    }
    const kept = Int32Array.from(decoded.keys()).filter((k) => decoded[k] === 1);
    if (kept.length < n) {
      // Failed files leave gaps: closed up.
      const packed = new Float32Array(kept.length * outPer);
      for (const [j, k] of kept.entries()) packed.set(data.subarray(k * outPer, (k + 1) * outPer), j * outPer);
      data = packed;
    }
    return { data, kept };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    this.badImages = [];
    const { indices: order, seeds } = this.epochSamples();
    const batches = this.length;
    let started = 0;
    const start = (): Promise<Batch> => {
      const from = started * this.batchSize, to = Math.min((started + 1) * this.batchSize, order.length);
      started++;
      const batch = this.makeBatch(order.slice(from, to), seeds.slice(from, to));
      // A batch ahead may fail before its turn (a corrupt file), or never be awaited (a caller
      // that stops early): its error is thrown where it is awaited, never reported as unhandled.
      batch.catch(() => undefined);
      return batch;
    };
    const ahead: Promise<Batch>[] = [];
    while (started < Math.min(batches, this.prefetch)) ahead.push(start());
    for (let b = 0; b < batches; b++) {
      const batch = await ahead.shift()!;
      if (started < batches) ahead.push(start());
      if (batch.y.length > 0) yield batch;
    }
  }
}
