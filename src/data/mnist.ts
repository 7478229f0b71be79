// MNIST handwritten digits (LeCun, Cortes, Burges), gzipped IDX; URLs and checksums as torchvision.
import type { DatasetDefinition, LoadOptions } from './definition.js';
import type { RemoteFile } from './download.js';
import { splitFiles } from './split-files.js';
import { loadIdxImageDataset } from './idx-dataset.js';
import { ensureRemoteFile } from './remote-files.js';

const MIRRORS = ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'];

function remote(file: string, size: number, md5: string): RemoteFile {
  return { file, size, md5, urls: MIRRORS.map((m) => m + file), format: 'gzip' };
}

export const MNIST_FILES = {
  train: {
    images: remote('train-images-idx3-ubyte.gz', 9_912_422, 'f68b3c2dcbeaaa9fbdd348bbdeb94873'),
    labels: remote('train-labels-idx1-ubyte.gz', 28_881, 'd53e105ee54ea40749a09fcbcd1e9432'),
  },
  test: {
    images: remote('t10k-images-idx3-ubyte.gz', 1_648_877, '9fb629c4189551a2d022fa330f9573f3'),
    labels: remote('t10k-labels-idx1-ubyte.gz', 4_542, 'ec29112dd5afa0611ce80d1b7f02629c'),
  },
} as const;

export const MNIST_CLASSES = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'];


export const mnist: DatasetDefinition = {
  name: 'mnist',
  description: 'MNIST handwritten digits, 60,000 + 10,000 grayscale 28×28, 10 classes',
  splits: ['train', 'test'],
  shape: { channels: 1, height: 28, width: 28 },
  numClasses: 10,
  files: [MNIST_FILES.train.images, MNIST_FILES.train.labels, MNIST_FILES.test.images, MNIST_FILES.test.labels],
  source: 'http://yann.lecun.com/exdb/mnist/',
  license: 'CC BY-SA 3.0 (Yann LeCun, Corinna Cortes, Christopher J.C. Burges)',
  async load(split: string, options: LoadOptions = {}) {
    const files = splitFiles('mnist', MNIST_FILES, split);
    const imagesFile = await ensureRemoteFile('mnist', files.images, options);
    const labelsFile = await ensureRemoteFile('mnist', files.labels, options);
    return loadIdxImageDataset({ name: 'mnist', split, imagesFile, labelsFile, classes: MNIST_CLASSES, mean: [0.1307], std: [0.3081], flipsKeepClass: false });
  },
};
