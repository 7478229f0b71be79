// The in-memory form every dataset reader produces and the loader/transforms consume:
// raw uint8 pixels, one contiguous block, CHW per image (as torchvision's ToTensor would lay them out).

export interface ImageDataset {
  /** Registry name, e.g. 'cifar10'. */
  name: string;
  /** 'train' | 'test' | 'val'. */
  split: string;
  /** count × channels × height × width, contiguous, CHW per image. */
  images: Uint8Array;
  /** Class index per image, length count. */
  labels: Int32Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  /** Class names, index = label. */
  classes: string[];
  /** Per-channel mean and std in [0,1] units (for Normalize). */
  mean: number[];
  std: number[];
  /** false where a left-right flip changes what an image shows (digits); augmentation presets ask. */
  flipsKeepClass?: boolean;
}

/** Bytes of one image (channels × height × width). */
export function imageSize(ds: Pick<ImageDataset, 'channels' | 'height' | 'width'>): number {
  return ds.channels * ds.height * ds.width;
}

/** A view (no copy) of image `index` as CHW uint8. */
export function imageAt(ds: ImageDataset, index: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= ds.count) {
    throw new RangeError(`Expected image index between 0 and ${ds.count - 1} but received ${index}`);
  }
  const size = imageSize(ds);
  return ds.images.subarray(index * size, (index + 1) * size);
}

/** Throws if the arrays and the declared shape disagree; readers call this before returning. */
export function checkDataset(ds: ImageDataset): ImageDataset {
  const size = imageSize(ds);
  if (ds.images.length !== ds.count * size) {
    throw new RangeError(`Dataset ${ds.name}/${ds.split}: images hold ${ds.images.length} bytes, expected ${ds.count} × ${size}`);
  }
  if (ds.labels.length !== ds.count) {
    throw new RangeError(`Dataset ${ds.name}/${ds.split}: ${ds.labels.length} labels for ${ds.count} images`);
  }
  if (ds.mean.length !== ds.channels || ds.std.length !== ds.channels) {
    throw new RangeError(`Dataset ${ds.name}/${ds.split}: mean/std need ${ds.channels} values`);
  }
  for (let i = 0; i < ds.count; i++) {
    const label = ds.labels[i]!;
    if (label < 0 || label >= ds.classes.length) {
      throw new RangeError(`Dataset ${ds.name}/${ds.split}: label ${label} at index ${i} is outside 0..${ds.classes.length - 1}`);
    }
  }
  return ds;
}

/** Per-channel mean and std (population, in [0,1] units) of a CHW uint8 block. */
export function channelStats(images: Uint8Array, channels: number, pixelsPerImage: number): { mean: number[]; std: number[] } {
  const sums = new Float64Array(channels);
  const squares = new Float64Array(channels);
  const plane = pixelsPerImage;
  const stride = channels * plane;
  const count = stride === 0 ? 0 : images.length / stride;
  for (let n = 0; n < count; n++) {
    for (let c = 0; c < channels; c++) {
      const start = n * stride + c * plane;
      let s = 0;
      let q = 0;
      for (let i = start; i < start + plane; i++) {
        const v = images[i]!;
        s += v;
        q += v * v;
      }
      sums[c]! += s;
      squares[c]! += q;
    }
  }
  const total = count * plane;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const m = total > 0 ? sums[c]! / total : 0;
    const variance = total > 0 ? squares[c]! / total - m * m : 0;
    mean.push(m / 255);
    std.push(Math.sqrt(Math.max(variance, 0)) / 255);
  }
  return { mean, std };
}
