// Images per second of loading + augmenting alone from an image folder or labels file (no model):
// one epoch of the streaming loader with the training transforms, and the process's peak RSS.
import { openImageFiles, type ImageFilesOptions } from '../data/image-files.js';
import { photoTransforms } from '../data/photo-transforms.js';
import type { AugmentLevel } from '../data/presets.js';
import { jpegDecoderName, StreamingLoader } from '../data/stream-loader.js';

export interface ImageFolderBenchOptions extends ImageFilesOptions {
  imageSize?: number;
  augment?: AugmentLevel;
  batchSize?: number;
  /** Images decoding at once (the counterpart of DataLoader's num_workers). */
  threads?: number;
  /** Stop after this many images (default: one whole epoch). */
  limit?: number;
}

export interface ImageFolderBenchResult {
  bench: 'data';
  dataset: 'imagefolder';
  source: string;
  images: number;
  image_size: number;
  augment: AugmentLevel;
  batch_size: number;
  threads: number;
  /** What decodes the JPEGs: 'libjpeg-turbo 2.1.5' (the addon's) or 'sharp (libvips …)'. */
  decoder: string;
  index_seconds: number;
  images_per_sec: number;
  peak_rss_mb: number;
}

export async function benchImageFolder(o: ImageFolderBenchOptions): Promise<ImageFolderBenchResult> {
  const size = o.imageSize ?? 224, augment = o.augment ?? 'basic', batchSize = o.batchSize ?? 64, threads = o.threads ?? 2;
  const t0 = performance.now();
  const files = await openImageFiles('train', o);
  const indexSeconds = (performance.now() - t0) / 1000;
  const loader = new StreamingLoader(files, {
    batchSize, shuffle: true, seed: 0, concurrency: threads,
    ...photoTransforms({ size, augment, mean: files.mean, std: files.std }, true),
  });
  const limit = Math.min(o.limit ?? Infinity, files.files.length);
  let images = 0;
  const t1 = performance.now();
  for await (const batch of loader) {
    images += batch.y.length;
    if (images >= limit) break;
  }
  const seconds = (performance.now() - t1) / 1000;
  return {
    bench: 'data', dataset: 'imagefolder', source: files.source, images, image_size: size, augment, batch_size: batchSize, threads,
    decoder: jpegDecoderName(), index_seconds: indexSeconds, images_per_sec: images / seconds, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
