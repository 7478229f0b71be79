// Batches of image files decoded per batch: each image is read, cropped and resized on libuv's
// pool (JPEGs by the addon's libjpeg-turbo decoder, a share of the batch per call; other files,
// or every file without that decoder, by sharp one at a time, several at once), then the rest of the transform (flips, colour, Normalize) runs
// in the native augmenter. Batches are prepared `prefetch` ahead of the one the caller holds, so
// memory is bounded by the batches in flight, whatever the dataset's size.
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
  /** Images decoding at once (default 4, libuv's pool size). */
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
   * Decodes the batch's files (in flight together, at most `concurrency` decodes at once), then augments.
   * Sample k's crop draws from new Generator(seeds[k] + 2^32) and the augmenter from seeds[k]:
   * one seed per sample, as the in-memory loader (so sharding gives each sample the same crop).
   * When the transform after the crop is only a flip and Normalize, the JPEG decoder writes the
   * batch's floats itself (the flip drawn from seeds[k] as the augmenter draws it): the augmenter's
   * pass cost as much as decoding a 500×375 JPEG's crop.
   */
  private async makeBatch(indices: Int32Array, seeds: Uint32Array): Promise<Batch> {
    const { channels, files, labels } = this.dataset;
    const { input, output } = this.plan;
    const per = channels * input.height * input.width, outPer = output.channels * output.height * output.width;
    // Decoded crops live only until the augmenter has read them: their blocks are reused, which
    // keeps the process's memory flat instead of waiting for the garbage collector.
    const block = this.blocks.pop() ?? new Uint8Array(this.batchSize * per);
    const fused = this.nativeJpeg ? this.fused : null;
    const floats = fused ? new Float32Array(indices.length * outPer) : null;
    // Per sample: 0 not decoded, 1 uint8 crop in block, 2 floats written by the JPEG decoder.
    const decoded = new Uint8Array(indices.length);
    const failed = (file: string, err: unknown) => {
      if (!(this.skipBadImages && err instanceof CorruptFileError)) throw err;
      this.badImages.push(file);
    };
    const cropGenerator = (k: number) => new Generator(seeds[k]! + 0x100000000);
    let viaSharp = Array.from(indices.keys());
    if (this.nativeJpeg) {
      const jobs: CropJob[] = Array.from(indices, (index, k) => ({
        file: files.at(index), slot: k, gen: cropGenerator(k), flip: fused !== null && new Generator(seeds[k]!).random() < fused.flipP,
      }));
      // A share of the batch per call, at most `concurrency` calls at once over all batches in flight:
      // the pool's threads decode side by side, one OpenMP thread each.
      const share = Math.ceil(jobs.length / this.concurrency);
      const parts = Array.from({ length: Math.ceil(jobs.length / share) }, (_, p) => jobs.slice(p * share, (p + 1) * share));
      const outcomes = await Promise.all(parts.map((part) => this.limiter.run(() => decodeJpegCrops(part, this.crop, floats ?? block, 1, fused ?? undefined))));
      viaSharp = [];
      for (const [p, outcome] of outcomes.entries()) {
        const rest = new Set([...outcome.others, ...outcome.failed.map((f) => f.job)]);
        for (const job of parts[p]!) if (!rest.has(job)) decoded[job.slot] = floats ? 2 : 1;
        viaSharp.push(...outcome.others.map((job) => job.slot));
        for (const { job, error } of outcome.failed) failed(job.file, error);
      }
    }
    await Promise.all(viaSharp.map((k) => this.limiter.run(async () => {
      const index = indices[k]!;
      try {
        await decodeCrop(files.at(index), this.crop, channels, cropGenerator(k), block, k * per, await this.original(index));
        decoded[k] = 1;
      } catch (err) {
        failed(files.at(index), err);
      }
    })));
    const kept = Int32Array.from(decoded.keys()).filter((k) => decoded[k] !== 0);
    const inBlock = kept.filter((k) => decoded[k] === 1);
    let augmented: Float32Array;
    try {
      augmented = inBlock.length === 0 ? new Float32Array(0)
        : await augmentBatchAsync(this.plan, block, inBlock, Uint32Array.from(inBlock, (k) => seeds[k]!), this.threads);
    } finally {
      this.blocks.push(block);
    }
    let data = augmented;
    if (floats) {
      // Files sharp decoded (PNGs, CMYK JPEGs) join the decoder's floats; failed ones leave gaps, closed up.
      for (const [j, k] of inBlock.entries()) floats.set(augmented.subarray(j * outPer, (j + 1) * outPer), k * outPer);
      data = kept.length === indices.length ? floats : new Float32Array(kept.length * outPer);
      if (data !== floats) for (const [j, k] of kept.entries()) data.set(floats.subarray(k * outPer, (k + 1) * outPer), j * outPer);
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
