export interface ModelOptions {
  numClasses?: number;
  inChannels?: number;
  /** ResNet stem: 'imagenet' (7×7 stride-2 conv + max-pool) or 'cifar' (3×3 stride-1 conv, no pool). */
  stem?: 'imagenet' | 'cifar';
  /** Dropout probability before the classifier, for models that have one (default: torchvision's). */
  dropout?: number;
  /** The largest stochastic-depth drop probability (the last block's), for models that have it (default: torchvision's). */
  dropPath?: number;
}

/** A probability option, or its default when unset. */
export function probability(value: number | undefined, fallback: number, name: string): number {
  const p = value ?? fallback;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be a probability between 0 and 1 but is ${p}`);
  return p;
}
