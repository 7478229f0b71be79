// Per-dataset transform presets, chosen by `augment: 'none' | 'basic' | 'strong'`. Evaluation
// (train = false) always gets ToTensor + Normalize.
import type { ImageDataset } from './dataset.js';
import {
  ColorJitter, Compose, Normalize, RandomCrop, RandomErasing, RandomHorizontalFlip, RandomRotation, ToTensor,
  type Transform,
} from './transforms.js';

export type AugmentLevel = 'none' | 'basic' | 'strong';
export const AUGMENT_LEVELS: readonly AugmentLevel[] = ['none', 'basic', 'strong'];

export interface ChannelStats {
  mean: number[];
  std: number[];
}

/** The normalization constants everyone uses for these datasets. */
export const DATASET_STATS: Readonly<Record<string, ChannelStats>> = {
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616] },
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.2860], std: [0.3530] },
};

/** Where flipping left-right changes what the image shows (digits). */
const NO_FLIP = new Set(['mnist']);

export type PresetDataset = Pick<ImageDataset, 'name' | 'channels' | 'height' | 'width' | 'mean' | 'std'>;

export function datasetStats(dataset: PresetDataset): ChannelStats {
  return DATASET_STATS[dataset.name] ?? { mean: [...dataset.mean], std: [...dataset.std] };
}

/**
 * basic: RandomCrop(size, padding = floor(size/8): 4 for 32, 3 for 28) (+ horizontal flip except digits) + normalize, e.g.
 * CIFAR: RandomCrop(32, padding=4) + RandomHorizontalFlip() + Normalize.
 * strong: RGB adds ColorJitter(0.2, 0.2, 0.2, 0.05) before and RandomErasing() after Normalize;
 * grayscale adds RandomRotation(15) before the crop.
 */
export function presetTransform(dataset: PresetDataset, augment: AugmentLevel, train = true): Compose {
  if (!AUGMENT_LEVELS.includes(augment)) {
    throw new RangeError(`augment must be one of ${AUGMENT_LEVELS.join(', ')} but is '${String(augment)}'`);
  }
  const { mean, std } = datasetStats(dataset);
  const normalize = [new ToTensor(), new Normalize(mean, std)];
  if (!train || augment === 'none') return new Compose(normalize);
  const rgb = dataset.channels === 3;
  const before: Transform[] = [];
  if (augment === 'strong' && !rgb) before.push(new RandomRotation(15));
  before.push(new RandomCrop([dataset.height, dataset.width], { padding: Math.max(1, Math.floor(Math.min(dataset.height, dataset.width) / 8)) }));
  if (!NO_FLIP.has(dataset.name)) before.push(new RandomHorizontalFlip());
  if (augment === 'strong' && rgb) before.push(new ColorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05 }));
  const after: Transform[] = augment === 'strong' && rgb ? [new RandomErasing()] : [];
  return new Compose([...before, ...normalize, ...after]);
}
