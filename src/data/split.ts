// Holding out a validation set (--val-split 0.1): a seeded random permutation, like
// torch.utils.data.random_split with a seeded generator (not stratified).
import type { ImageDataset } from './dataset.js';
import { imageSize } from './dataset.js';
import { Generator } from '../tensor/random.js';
import { DatasetOptionError } from './errors.js';

/** A copy holding the images at `indices`, in that order. */
export function subsetDataset(ds: ImageDataset, indices: ArrayLike<number>, split = ds.split): ImageDataset {
  const size = imageSize(ds);
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]!;
    if (!Number.isInteger(src) || src < 0 || src >= ds.count) throw new RangeError(`index ${src} is outside 0..${ds.count - 1}`);
    images.set(ds.images.subarray(src * size, (src + 1) * size), i * size);
    labels[i] = ds.labels[src]!;
  }
  return { ...ds, split, images, labels, count: indices.length };
}

/**
 * The indices (each sorted) of a seeded split of count items: round(fraction × count) for 'val',
 * the rest for 'train'. Image-file datasets split their file lists with it, the same way.
 */
export function splitIndices(count: number, fraction: number, seed = 0): { train: Uint32Array; val: Uint32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new DatasetOptionError(`validation fraction must be between 0 and 1 (exclusive), not ${fraction}`);
  const valCount = Math.round(count * fraction);
  if (valCount < 1 || valCount >= count) {
    throw new DatasetOptionError(`--val-split ${fraction} leaves ${valCount} of ${count} images for validation`);
  }
  const order = new Uint32Array(count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const rng = new Generator(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.randint(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return { val: order.subarray(0, valCount).slice().sort(), train: order.subarray(valCount).slice().sort() };
}

/**
 * Splits off round(fraction × count) images as 'val', the rest as 'train', after a seeded shuffle.
 * Both keep the source's classes and mean/std (the training statistics).
 */
export function splitDataset(ds: ImageDataset, fraction: number, seed = 0): { train: ImageDataset; val: ImageDataset } {
  const { train, val } = splitIndices(ds.count, fraction, seed);
  return { train: subsetDataset(ds, train, 'train'), val: subsetDataset(ds, val, 'val') };
}
