// The data side of a run: which splits train and validate, and the transforms they get.
import { loadDataset, getDataset } from '../data/registry.js';
import { splitDataset } from '../data/split.js';
import type { ImageDataset } from '../data/dataset.js';
import { presetTransform, type AugmentLevel } from '../data/presets.js';
import {
  Compose, Resize, ToTensor, RandomCrop, RandomResizedCrop, RandomHorizontalFlip, RandomVerticalFlip, RandomRotation,
  ColorJitter, RandomGrayscale, RandomErasing, type Transform,
} from '../data/transforms.js';
import { autoAugmentTransform, parseAutoAugment } from '../data/auto-augment.js';
import type { DownloadProgress } from '../data/download.js';
import type { TrainConfig } from './options.js';

export async function loadSplits(c: TrainConfig, onProgress?: (p: DownloadProgress) => void): Promise<{ train: ImageDataset; val: ImageDataset; valSource: string }> {
  const def = getDataset(c.dataset);
  const opts = { dataDir: c.dataDir, download: c.download, imageSize: c.imageSize, onProgress };
  const full = await loadDataset(def.name, 'train', opts);
  if (c.valSplit > 0) {
    const { train, val } = splitDataset(full, c.valSplit, c.seed);
    return { train, val, valSource: `${Math.round(c.valSplit * 100)}% of train, seed ${c.seed}` };
  }
  const heldOut = def.splits.includes('val') ? 'val' : 'test';
  return { train: full, val: await loadDataset(def.name, heldOut, opts), valSource: `${heldOut} split` };
}

/** Single augmentations added on top of the --augment preset (training only). */
export type ExtraAugment = Pick<TrainConfig, 'randomCrop' | 'randomResizedCrop' | 'hflip' | 'vflip' | 'rotation' | 'colorJitter' | 'grayscale' | 'erasing' | 'autoAugment'>;

/**
 * Train: [Resize] → preset's uint8 steps → extra geometric and colour steps → --auto-augment → ToTensor →
 * Normalize → preset's and extra tensor steps (RandomErasing). Validation: [Resize] → ToTensor →
 * Normalize. The preset is planned at the resized size, so its crops keep that size.
 */
export function transformFor(ds: ImageDataset, augment: AugmentLevel, train: boolean, imageSize?: number, extra: ExtraAugment = {}): Compose {
  const resize = imageSize && (ds.height !== imageSize || ds.width !== imageSize);
  const size: [number, number] = resize ? [imageSize, imageSize] : [ds.height, ds.width];
  const preset = presetTransform({ ...ds, height: size[0], width: size[1] }, augment, train).transforms;
  const split = preset.findIndex((t) => t instanceof ToTensor);
  const before: Transform[] = [...(resize ? [new Resize(size)] : []), ...preset.slice(0, split)];
  const after: Transform[] = [...preset.slice(split)];
  if (train) {
    if (extra.randomResizedCrop !== undefined) before.push(new RandomResizedCrop(size, { scale: [extra.randomResizedCrop, 1] }));
    if (extra.randomCrop !== undefined) before.push(new RandomCrop(size, { padding: extra.randomCrop }));
    if (extra.hflip !== undefined) before.push(new RandomHorizontalFlip(extra.hflip));
    if (extra.vflip !== undefined) before.push(new RandomVerticalFlip(extra.vflip));
    if (extra.rotation !== undefined) before.push(new RandomRotation(extra.rotation));
    if (extra.colorJitter) {
      const [brightness, contrast, saturation, hue] = extra.colorJitter;
      before.push(new ColorJitter({ brightness, contrast, saturation, hue }));
    }
    if (extra.grayscale !== undefined) before.push(new RandomGrayscale(extra.grayscale));
    if (extra.autoAugment !== undefined) before.push(autoAugmentTransform(parseAutoAugment(extra.autoAugment)));
    if (extra.erasing !== undefined) after.push(new RandomErasing({ p: extra.erasing }));
  }
  return new Compose([...before, ...after]);
}
