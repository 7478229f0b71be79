// CIFAR-100 (Krizhevsky 2009), binary version: train.bin / test.bin with records of
// coarse label, fine label, 3072 pixel bytes. `labels` are the 100 fine classes (as torchvision);
// the 20 superclasses ride along as coarseLabels/coarseClasses.
import path from 'node:path';
import { checkDataset, type ImageDataset } from './dataset.js';
import type { DatasetDefinition, LoadOptions } from './definition.js';
import type { RemoteFile } from './download.js';
import { CorruptFileError } from './errors.js';
import { checkLabels, ensureExtracted, readCifarRecords, readLabelNames } from './cifar-binary.js';
import { splitFiles } from './split-files.js';

export const CIFAR100_ARCHIVE: RemoteFile = {
  file: 'cifar-100-binary.tar.gz',
  urls: ['https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz'],
  size: 168_513_733,
  md5: '03b5dce01913d631647c71ecec9e9cb8',
  format: 'gzip',
};
export const CIFAR100_FOLDER = 'cifar-100-binary';
const FILES = { train: ['train.bin'], test: ['test.bin'] };

export interface Cifar100Dataset extends ImageDataset {
  coarseLabels: Int32Array;
  coarseClasses: string[];
}

export const cifar100: DatasetDefinition = {
  name: 'cifar100',
  description: 'CIFAR-100, 50,000 + 10,000 colour 32×32, 100 fine classes (20 superclasses)',
  splits: ['train', 'test'],
  shape: { channels: 3, height: 32, width: 32 },
  numClasses: 100,
  files: [CIFAR100_ARCHIVE],
  source: 'https://www.cs.toronto.edu/~kriz/cifar.html',
  license: 'no explicit licence; cite Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009',
  async load(split: string, options: LoadOptions = {}): Promise<Cifar100Dataset> {
    const names = splitFiles('cifar100', FILES, split);
    const dir = await ensureExtracted('cifar100', CIFAR100_ARCHIVE, CIFAR100_FOLDER, [...names, 'fine_label_names.txt'], options);
    const records = await readCifarRecords(names.map((n) => path.join(dir, n)), 2);
    const [coarseLabels, labels] = records.labels as [Int32Array, Int32Array];
    const fine = await readLabelNames(path.join(dir, 'fine_label_names.txt'));
    const coarse = await readLabelNames(path.join(dir, 'coarse_label_names.txt'));
    if (!fine || fine.length !== 100) throw new CorruptFileError(`${dir}/fine_label_names.txt must list 100 class names`);
    checkLabels(labels, 100, `${dir}/${names[0]} (fine labels)`);
    checkLabels(coarseLabels, 20, `${dir}/${names[0]} (coarse labels)`);
    const ds = checkDataset({
      name: 'cifar100', split, images: records.images, labels, count: records.count, channels: 3, height: 32, width: 32,
      classes: fine, mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762],
    });
    return { ...ds, coarseLabels, coarseClasses: coarse && coarse.length === 20 ? coarse : Array.from({ length: 20 }, (_, i) => String(i)) };
  },
};
