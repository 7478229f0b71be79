export interface ModelOptions {
  numClasses?: number;
  inChannels?: number;
  /** ResNet stem: 'imagenet' (7×7 stride-2 conv + max-pool) or 'cifar' (3×3 stride-1 conv, no pool). */
  stem?: 'imagenet' | 'cifar';
}
