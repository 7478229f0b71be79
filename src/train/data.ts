// The data side of a run: which splits train and validate, and the transforms they get.
import { loadDataset, getDataset } from '../data/registry.js';
import { splitDataset } from '../data/split.js';
import type { ImageDataset } from '../data/dataset.js';
import { presetTransform } from '../data/presets.js';
import { Compose, Resize } from '../data/transforms.js';
import type { DownloadProgress } from '../data/download.js';
import type { AugmentName, TrainConfig } from './config.js';

export async function loadSplits(c: TrainConfig, onProgress?: (p: DownloadProgress) => void): Promise<{ train: ImageDataset; val: ImageDataset; valSource: string }> {
  const def = getDataset(c.dataset);
  const opts = { dataDir: c.dataDir, download: c.download, imageSize: c.imageSize, onProgress };
  const full = await loadDataset(def.name, 'train', opts);
  if (c.valSplit > 0) {
    const { train, val } = splitDataset(full, c.valSplit, c.seed);
    return { train, val, valSource: `${Math.round(c.valSplit * 100)}% of train, seed ${c.seed}` };
  }
  const heldOut = def.splits.includes('val') ? 'val' : 'test';
  return { train: full, val: await loadDataset(def.name, heldOut, opts), valSource: `${heldOut} split` };
}

export function transformFor(ds: ImageDataset, augment: AugmentName, train: boolean, imageSize?: number): Compose {
  const preset = presetTransform(ds, augment, train);
  // imagefolder resizes while decoding; fixed-size datasets resize here.
  if (imageSize && (ds.height !== imageSize || ds.width !== imageSize)) {
    return new Compose([new Resize([imageSize, imageSize]), ...preset.transforms]);
  }
  return preset;
}

