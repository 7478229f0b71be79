// The transforms of torchvision's classification reference scripts, for photos read from files:
// train = RandomResizedCrop(size, scale, ratio) + RandomHorizontalFlip + ToTensor + Normalize
// ('strong' adds ColorJitter and RandomErasing); eval = Resize(size / 0.875) + CenterCrop(size)
// + ToTensor + Normalize. --auto-augment runs after the flip (train only), as in the reference
// scripts. The crop happens while decoding (crop-decode.ts); the rest is native.
import { autoAugmentTransform, parseAutoAugment } from './auto-augment.js';
import type { CropSpec } from './crop-decode.js';
import type { AugmentLevel } from './presets.js';
import { ColorJitter, Compose, Normalize, RandomErasing, RandomHorizontalFlip, RandomResizedCrop, ToTensor, type Transform } from './transforms.js';

export interface PhotoTransformOptions {
  /** Side of the square crop the model sees (--image-size / --crop). */
  size: number;
  augment: AugmentLevel;
  /** RandomResizedCrop scale (default [0.08, 1]). */
  scale?: [number, number];
  /** RandomResizedCrop ratio (default [3/4, 4/3]; --rrc-ratio). */
  ratio?: [number, number];
  /** Shorter side before the evaluation centre crop (default round(size / 0.875): 256 for 224). */
  evalResize?: number;
  mean: readonly number[];
  std: readonly number[];
  /** --auto-augment's spec (trivial, imagenet, rand-m9-mstd0.5), training only. */
  autoAugment?: string;
}

/** torchvision's reference scripts: resize 256 for a 224 crop. */
export function defaultEvalResize(size: number): number {
  return Math.round(size / 0.875);
}

export function photoTransforms(o: PhotoTransformOptions, train: boolean): { crop: CropSpec; transform: Compose } {
  const normalize: Transform[] = [new ToTensor(), new Normalize(o.mean, o.std)];
  const auto = train && o.autoAugment !== undefined ? [autoAugmentTransform(parseAutoAugment(o.autoAugment))] : [];
  if (!train || o.augment === 'none') {
    const resize = o.evalResize ?? defaultEvalResize(o.size);
    if (!Number.isInteger(resize) || resize < o.size) throw new RangeError(`the evaluation resize (${resize}) must be an integer of at least the crop (${o.size})`);
    return { crop: { kind: 'resizeCenterCrop', resize, height: o.size, width: o.size }, transform: new Compose([...auto, ...normalize]) };
  }
  const crop = new RandomResizedCrop(o.size, { scale: o.scale, ratio: o.ratio });
  const before: Transform[] = [new RandomHorizontalFlip()];
  const after: Transform[] = [];
  if (o.augment === 'strong') {
    if (o.mean.length === 3) before.push(new ColorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05 }));
    after.push(new RandomErasing());
  }
  return { crop: { kind: 'randomResizedCrop', crop }, transform: new Compose([...before, ...auto, ...normalize, ...after]) };
}
