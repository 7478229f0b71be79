// torchvision's ImageFolder: root/<class>/<image>, classes sorted by name, images decoded with sharp
// (PNG, JPEG, WebP) and resized to imageSize × imageSize. A root holding train/ and val/ (or test/)
// folders is read as splits; otherwise the whole root is the train split.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import '../io/svg-policy.js';
import { channelStats, checkDataset, type ImageDataset } from './dataset.js';
import type { DatasetDefinition, LoadOptions } from './definition.js';
import { hwcToChw } from './crop-decode.js';
import { CorruptFileError, DatasetNotFoundError, DatasetOptionError } from './errors.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'];

export interface ImageFolderOptions {
  /** Output height and width (default 32). */
  imageSize?: number;
  /** 3 = RGB (default), 1 = grayscale. */
  channels?: 1 | 3;
  /** Registry name recorded in the dataset (default 'imagefolder'). */
  name?: string;
  split?: string;
  /** Decodes in flight at once (default 4; sharp decodes on its own thread pool). */
  concurrency?: number;
}

/** Class folders (sorted like Python's sorted()) and their image files (sorted too). */
export async function scanImageFolder(root: string): Promise<{ classes: string[]; samples: { file: string; label: number }[] }> {
  let entries;
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch {
    throw new DatasetNotFoundError(`image folder ${root} does not exist (expected ${root}/<class>/<image>.png|jpg|webp)`);
  }
  const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const classes = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byCodePoint);
  if (classes.length === 0) throw new DatasetNotFoundError(`image folder ${root} has no class sub-folders (expected ${root}/<class>/<image>)`);
  const samples: { file: string; label: number }[] = [];
  for (const [label, cls] of classes.entries()) {
    const files = (await fs.readdir(path.join(root, cls), { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase()))
      .map((e) => e.name).sort(byCodePoint);
    if (files.length === 0) {
      throw new DatasetNotFoundError(`image folder ${root}: class folder ${cls}/ holds no ${IMAGE_EXTENSIONS.join('/')} files`);
    }
    for (const f of files) samples.push({ file: path.join(root, cls, f), label });
  }
  return { classes, samples };
}

async function decodeInto(file: string, size: number, channels: 1 | 3, out: Uint8Array, offset: number): Promise<void> {
  let pixels: Buffer;
  try {
    let pipeline = sharp(file, { failOn: 'error' }).resize(size, size, { fit: 'fill' }).removeAlpha();
    pipeline = channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
    pixels = await pipeline.raw().toBuffer();
  } catch (err) {
    throw new CorruptFileError(`cannot decode image ${file}: ${(err as Error).message}`);
  }
  if (pixels.length !== size * size * channels) throw new CorruptFileError(`image ${file} decoded to ${pixels.length} bytes, expected ${size * size * channels}`);
  hwcToChw(pixels, channels, out, offset);
}

/** Reads one class-per-folder tree. Mean/std are computed from the images read. */
export async function loadImageFolder(root: string, options: ImageFolderOptions = {}): Promise<ImageDataset> {
  const size = options.imageSize ?? 32;
  const channels = options.channels ?? 3;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new DatasetOptionError(`image size must be an integer between 1 and 4096, not ${size}`);
  if (channels !== 1 && channels !== 3) throw new DatasetOptionError(`channels must be 1 or 3, not ${String(channels)}`);
  const { classes, samples } = await scanImageFolder(root);
  const imageBytes = channels * size * size;
  const images = new Uint8Array(samples.length * imageBytes);
  const labels = Int32Array.from(samples, (s) => s.label);
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const i = next++;
      await decodeInto(samples[i]!.file, size, channels, images, i * imageBytes);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  const { mean, std } = channelStats(images, channels, size * size);
  return checkDataset({
    name: options.name ?? 'imagefolder', split: options.split ?? 'train', images, labels, count: samples.length,
    channels, height: size, width: size, classes, mean, std,
  });
}

/** The split folder for `split` under root, or root itself when it has no split folders. */
export function imageFolderSplitRoot(root: string, split: string): string {
  const hasSplits = existsSync(path.join(root, 'train'));
  if (!hasSplits) {
    if (split === 'train') return root;
    throw new DatasetNotFoundError(`image folder ${root} has no train/ and val/ folders, so it has only a train split (use --val-split to hold some out)`);
  }
  const candidates = split === 'train' ? ['train'] : split === 'val' || split === 'test' ? [split, split === 'val' ? 'test' : 'val'] : [split];
  for (const c of candidates) if (existsSync(path.join(root, c))) return path.join(root, c);
  throw new DatasetNotFoundError(`image folder ${root} has no ${candidates.join('/ or ')}/ folder`);
}

export const imageFolder: DatasetDefinition = {
  name: 'imagefolder',
  description: 'your images: --data-dir ROOT with ROOT/<class>/*.png|jpg|webp (or ROOT/train/ and ROOT/val/), or --labels FILE.csv; streamed from disk with torchvision\'s crops at --image-size',
  splits: ['train', 'val', 'test'],
  files: [],
  source: '(local folder)',
  license: '(yours)',
  async load(split: string, options: LoadOptions = {}) {
    if (!options.dataDir) throw new DatasetOptionError('imagefolder needs --data-dir pointing at a folder with one sub-folder per class');
    const root = path.resolve(options.cwd ?? process.cwd(), options.dataDir);
    const splitRoot = imageFolderSplitRoot(root, split);
    const ds = await loadImageFolder(splitRoot, { imageSize: options.imageSize, channels: options.channels, split });
    if (split !== 'train' && splitRoot !== root) {
      // Normalize with the training split's statistics, as one would in PyTorch.
      const train = await loadImageFolder(imageFolderSplitRoot(root, 'train'), { imageSize: options.imageSize, channels: options.channels });
      if (train.classes.join('\n') !== ds.classes.join('\n')) {
        throw new CorruptFileError(`image folder ${root}: ${path.basename(splitRoot)}/ has classes ${ds.classes.join(', ')} but train/ has ${train.classes.join(', ')}`);
      }
      return { ...ds, mean: train.mean, std: train.std };
    }
    return ds;
  },
};
