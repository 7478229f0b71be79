// ImageNet-1K facts that ship with cnn (data/imagenet.json, written from torchvision by
// scripts/make-imagenet-facts.py): the 1,000 class names, the preprocessing torchvision's ImageNet
// weights expect, and the official weight file of each model --pretrained offers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageDataDir } from './location.js';

export interface ImagenetPreprocessing {
  /** Resize the shorter side to this many pixels (bilinear, antialiased), ... */
  resize: number;
  /** ... then take the centre crop of this size. */
  crop: number;
  mean: [number, number, number];
  std: [number, number, number];
  interpolation: 'bilinear';
}

export interface ImagenetWeights {
  url: string;
  params: number;
  /** torchvision's published ImageNet-1K validation accuracies (%). */
  top1: number;
  top5: number;
}

export interface ImagenetFacts {
  classes: string[];
  preprocessing: ImagenetPreprocessing;
  weights: Record<string, ImagenetWeights>;
}

let facts: ImagenetFacts | null = null;

export function imagenetFacts(): ImagenetFacts {
  facts ??= JSON.parse(readFileSync(path.join(packageDataDir(), 'imagenet.json'), 'utf8')) as ImagenetFacts;
  return facts;
}
