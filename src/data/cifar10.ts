// CIFAR-10 (Krizhevsky 2009), binary version: data_batch_1..5.bin (train), test_batch.bin (test).
import path from 'node:path';
import { checkDataset } from './dataset.js';
import type { DatasetDefinition, LoadOptions } from './definition.js';
import type { RemoteFile } from './download.js';
import { checkLabels, ensureExtracted, readCifarRecords, readLabelNames } from './cifar-binary.js';
import { splitFiles } from './split-files.js';

export const CIFAR10_ARCHIVE: RemoteFile = {
  file: 'cifar-10-binary.tar.gz',
  urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
  size: 170_052_171,
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  format: 'gzip',
};
export const CIFAR10_FOLDER = 'cifar-10-batches-bin';
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const FILES = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
};

export const cifar10: DatasetDefinition = {
  name: 'cifar10',
  description: 'CIFAR-10, 50,000 + 10,000 colour 32×32, 10 classes',
  splits: ['train', 'test'],
  shape: { channels: 3, height: 32, width: 32 },
  numClasses: 10,
  files: [CIFAR10_ARCHIVE],
  source: 'https://www.cs.toronto.edu/~kriz/cifar.html',
  license: 'no explicit licence; cite Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009',
  async load(split: string, options: LoadOptions = {}) {
    const names = splitFiles('cifar10', FILES, split);
    const dir = await ensureExtracted('cifar10', CIFAR10_ARCHIVE, CIFAR10_FOLDER, names, options);
    const records = await readCifarRecords(names.map((n) => path.join(dir, n)), 1);
    const labels = records.labels[0]!;
    checkLabels(labels, 10, `${dir}/${names.join(', ')}`);
    const classes = (await readLabelNames(path.join(dir, 'batches.meta.txt'))) ?? CIFAR10_CLASSES;
    return checkDataset({
      name: 'cifar10', split, images: records.images, labels, count: records.count, channels: 3, height: 32, width: 32,
      classes: classes.length === 10 ? classes : CIFAR10_CLASSES,
      mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616],
    });
  },
};
