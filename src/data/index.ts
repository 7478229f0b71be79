// Data: datasets, transforms (torchvision semantics), presets, the native batch augmenter and
// the loader.
export type { ImageDataset } from './dataset.js';
export type { FloatImage, ImageShape } from './image.js';
export { toTensorImage } from './image.js';
export * as functional from './functional.js';
export * from './transforms.js';
export * from './presets.js';
export { planAugment, augmentBatch, augmentBatchAsync, augmentBatchReference, drawSeeds, type AugmentPlan } from './augment.js';
export { DataLoader, type DataLoaderOptions, type Batch } from './loader.js';
