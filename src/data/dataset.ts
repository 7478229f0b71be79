// What every dataset module produces: uint8 images in memory plus the facts a model and the
// transforms need. Images stay uint8 until the loader makes a batch.
export interface ImageDataset {
  name: string;            // registry name, e.g. 'cifar10'
  split: string;           // 'train' | 'test' | 'val'
  images: Uint8Array;      // count × channels × height × width, contiguous, CHW per image
  labels: Int32Array;      // count
  count: number;
  channels: number; height: number; width: number;
  classes: string[];
  mean: number[]; std: number[];   // per channel, in [0,1] units (for Normalize)
}
