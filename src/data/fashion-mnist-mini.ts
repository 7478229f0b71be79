// The bundled default: 10,000 + 2,000 real Fashion-MNIST images shipped in the package's data/
// folder (see data/README.md), so training works offline on a fresh clone.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { verifyFile } from './checksum.js';
import type { DatasetDefinition } from './definition.js';
import { CorruptFileError } from './errors.js';
import { FASHION_MNIST_CLASSES } from './fashion-mnist.js';
import { loadIdxImageDataset } from './idx-dataset.js';
import { packageDataDir } from './location.js';
import { splitFiles } from './split-files.js';

interface MiniMeta {
  splits: Record<string, { mean: number; std: number }>;
  files: Record<string, { size: number; sha256: string }>;
}

const FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
};

export function fashionMnistMiniDir(): string {
  return path.join(packageDataDir(), 'fashion-mnist-mini');
}

async function readMeta(dir: string): Promise<MiniMeta> {
  const file = path.join(dir, 'meta.json');
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as MiniMeta;
  } catch (err) {
    throw new CorruptFileError(`bundled dataset is missing or damaged: ${file} (${(err as Error).message}); rerun scripts/make-bundled-data.mjs`);
  }
}

export const fashionMnistMini: DatasetDefinition = {
  name: 'fashion-mnist-mini',
  description: 'bundled Fashion-MNIST subset, 10,000 + 2,000 grayscale 28×28, 10 balanced classes (offline default)',
  splits: ['train', 'test'],
  shape: { channels: 1, height: 28, width: 28 },
  numClasses: 10,
  files: [],
  source: 'https://github.com/zalandoresearch/fashion-mnist (subset made by scripts/make-bundled-data.mjs)',
  license: 'MIT (Zalando SE)',
  bundledDir: fashionMnistMiniDir,
  async load(split: string) {
    const names = splitFiles('fashion-mnist-mini', FILES, split);
    const dir = fashionMnistMiniDir();
    const meta = await readMeta(dir);
    const files = [names.images, names.labels].map((n) => path.join(dir, n));
    for (const file of files) {
      const expected = meta.files[path.basename(file)];
      if (!expected) throw new CorruptFileError(`${dir}/meta.json does not list ${path.basename(file)}`);
      await verifyFile(file, [expected]);
    }
    // Normalize with the statistics of the bundled training split, whichever split is loaded.
    const stats = meta.splits.train!;
    return loadIdxImageDataset({
      name: 'fashion-mnist-mini', split, imagesFile: files[0]!, labelsFile: files[1]!,
      classes: FASHION_MNIST_CLASSES, mean: [stats.mean], std: [stats.std],
    });
  },
};
