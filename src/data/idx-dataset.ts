// Builds an ImageDataset from a pair of IDX files (images N×H×W, labels N), as MNIST-style sets ship.
import { checkDataset, type ImageDataset } from './dataset.js';
import { CorruptFileError } from './errors.js';
import { readIdxFile } from './idx.js';

export interface IdxPair {
  name: string;
  split: string;
  imagesFile: string;
  labelsFile: string;
  classes: string[];
  mean: number[];
  std: number[];
  flipsKeepClass?: boolean;
}

export async function loadIdxImageDataset(pair: IdxPair): Promise<ImageDataset> {
  const [images, labels] = await Promise.all([readIdxFile(pair.imagesFile), readIdxFile(pair.labelsFile)]);
  if (images.dims.length !== 3) {
    throw new CorruptFileError(`${pair.imagesFile}: expected images N×H×W, found dimensions ${images.dims.join('×')}`);
  }
  if (labels.dims.length !== 1) {
    throw new CorruptFileError(`${pair.labelsFile}: expected labels N, found dimensions ${labels.dims.join('×')}`);
  }
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new CorruptFileError(`${pair.labelsFile} has ${labels.dims[0]} labels for ${count} images in ${pair.imagesFile}`);
  }
  const labels32 = Int32Array.from(labels.data);
  for (let i = 0; i < count; i++) {
    if (labels32[i]! >= pair.classes.length) {
      throw new CorruptFileError(`${pair.labelsFile}: label ${labels32[i]} at index ${i} is not a class (0..${pair.classes.length - 1})`);
    }
  }
  return checkDataset({
    name: pair.name, split: pair.split, images: images.data, labels: labels32, count,
    channels: 1, height, width, classes: [...pair.classes], mean: [...pair.mean], std: [...pair.std],
    ...(pair.flipsKeepClass === false ? { flipsKeepClass: false } : {}),
  });
}
