// Class probabilities for image files, preprocessed as the checkpoint's training data was.
import { Tensor, noGrad } from '../tensor/tensor.js';
import { softmax } from '../tensor/activation.js';
import { stepBuffersFor } from '../tensor/storage.js';
import type { Module } from '../nn/module.js';
import { readImage, type ReadImageOptions } from '../io/image.js';
import { preprocessForModel } from '../data/preprocess.js';
import type { DatasetFacts } from './checkpoint.js';

export interface Prediction {
  file: string;
  top: { class: string; index: number; prob: number }[];
  probs: number[];
}

export async function predictFile(model: Module, facts: DatasetFacts, file: string, topK: number, imageOptions: ReadImageOptions = {}): Promise<Prediction> {
  const image = await readImage(file, imageOptions);
  const [c, h, w] = facts.inputShape;
  const input = new Tensor(preprocessForModel(image, facts), [1, c, h, w]);
  // Files after the first take their forward pass's storage from the one before; the probabilities are copied out.
  const probs = stepBuffersFor(model).step(() => noGrad(() => softmax(model.eval().call(input), -1)).toArray());
  const top = probs.map((prob, index) => ({ class: facts.classes[index] ?? String(index), index, prob }))
    .sort((a, b) => b.prob - a.prob || a.index - b.index)
    .slice(0, topK);
  return { file, top, probs };
}
