// Fashion-MNIST (Zalando Research, MIT licence), gzipped IDX. Also found where Debian's
// dataset-fashion-mnist package installs it; those files are re-gzipped without the file name in
// the gzip header (24/23 bytes shorter), so their checksums are accepted as alternatives.
import type { DatasetDefinition, LoadOptions } from './definition.js';
import type { RemoteFile } from './download.js';
import type { FileChecksum } from './checksum.js';
import { loadIdxImageDataset } from './idx-dataset.js';
import { splitFiles } from './split-files.js';
import { ensureRemoteFile } from './remote-files.js';

const MIRRORS = [
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
];

export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

function remote(file: string, size: number, md5: string, debian: FileChecksum): RemoteFile {
  return { file, size, md5, urls: MIRRORS.map((m) => m + file), format: 'gzip', alternatives: [debian] };
}

export const FASHION_MNIST_FILES = {
  train: {
    images: remote('train-images-idx3-ubyte.gz', 26_421_880, '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
      { size: 26_421_856, md5: 'cf8536b0aa1a6ac5fa3f23001093305c' }),
    labels: remote('train-labels-idx1-ubyte.gz', 29_515, '25c81989df183df01b3e8a0aad5dffbe',
      { size: 29_491, md5: '10bea18fdb374794d4bb42e356e600c9' }),
  },
  test: {
    images: remote('t10k-images-idx3-ubyte.gz', 4_422_102, 'bef4ecab320f06d8554ea6380940ec79',
      { size: 4_422_079, md5: 'f78720b4224f21cce2f2ccf2d7a94c9a' }),
    labels: remote('t10k-labels-idx1-ubyte.gz', 5_148, 'bb300cfdad3c16e7a12a480ee83cd310',
      { size: 5_125, md5: '0d30e22e447f3c33dab9ed536400ac01' }),
  },
} as const;

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
/** Per-pixel mean/std of the 60,000 training images, in [0,1] units. */
export const FASHION_MNIST_MEAN = [0.2860];
export const FASHION_MNIST_STD = [0.3530];

export const fashionMnist: DatasetDefinition = {
  name: 'fashion-mnist',
  description: 'Fashion-MNIST (Zalando) clothing, 60,000 + 10,000 grayscale 28×28, 10 classes',
  splits: ['train', 'test'],
  shape: { channels: 1, height: 28, width: 28 },
  numClasses: 10,
  files: [FASHION_MNIST_FILES.train.images, FASHION_MNIST_FILES.train.labels, FASHION_MNIST_FILES.test.images, FASHION_MNIST_FILES.test.labels],
  source: 'https://github.com/zalandoresearch/fashion-mnist',
  license: 'MIT (Zalando SE)',
  extraDirs: [DEBIAN_FASHION_MNIST_DIR],
  async load(split: string, options: LoadOptions = {}) {
    const files = splitFiles('fashion-mnist', FASHION_MNIST_FILES, split);
    const imagesFile = await ensureRemoteFile('fashion-mnist', files.images, options);
    const labelsFile = await ensureRemoteFile('fashion-mnist', files.labels, options);
    return loadIdxImageDataset({
      name: 'fashion-mnist', split, imagesFile, labelsFile, classes: FASHION_MNIST_CLASSES, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD,
    });
  },
};
