// Transform presets from a dataset's own facts (size, channels, mean/std, whether flips keep the
// class), chosen by `augment: 'none' | 'basic' | 'strong'`. Evaluation
// (train = false) always gets ToTensor + Normalize.
import type { ImageDataset } from './dataset.js';
import {
  ColorJitter, Compose, Normalize, RandomCrop, RandomErasing, RandomHorizontalFlip, RandomRotation, ToTensor,
  type Transform,
} from './transforms.js';

export type AugmentLevel = 'none' | 'basic' | 'strong';
export const AUGMENT_LEVELS: readonly AugmentLevel[] = ['none', 'basic', 'strong'];

export type PresetDataset = Pick<ImageDataset, 'name' | 'channels' | 'height' | 'width' | 'mean' | 'std' | 'flipsKeepClass'>;

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
  const { mean, std } = dataset;
  const normalize = [new ToTensor(), new Normalize(mean, std)];
  if (!train || augment === 'none') return new Compose(normalize);
  const rgb = dataset.channels === 3;
  const before: Transform[] = [];
  if (augment === 'strong' && !rgb) before.push(new RandomRotation(15));
  before.push(new RandomCrop([dataset.height, dataset.width], { padding: Math.max(1, Math.floor(Math.min(dataset.height, dataset.width) / 8)) }));
  if (dataset.flipsKeepClass !== false) before.push(new RandomHorizontalFlip());
  if (augment === 'strong' && rgb) before.push(new ColorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05 }));
  const after: Transform[] = augment === 'strong' && rgb ? [new RandomErasing()] : [];
  return new Compose([...before, ...normalize, ...after]);
}
