// An image file's pixels made into a model's input, as the checkpoint's training data was.
import { centerCrop, resize, rgbToGrayscale, normalize } from './functional.js';
import { Resize } from './transforms.js';
import type { FloatImage } from './image.js';
import { ImageError, type DecodedImage } from '../io/image.js';

/** What preprocessing needs to know about the model's input (DatasetFacts has it). */
export interface ModelInputFacts {
  mean: readonly number[];
  std: readonly number[];
  /** C×H×W the model was trained on. */
  inputShape: readonly [number, number, number];
  /** Runs on image files: validation resized the shorter side to this, then centre-cropped H×W. */
  evalResize?: number;
}

/** HWC uint8 → CHW float in [0,1] (torchvision's to_tensor). */
export function imageToFloat(image: DecodedImage): FloatImage {
  const { width, height, channels } = image;
  const plane = width * height;
  const data = new Float32Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    for (let i = 0, j = c; i < plane; i++, j += channels) data[c * plane + i] = image.data[j] / 255;
  }
  return { data, width, height, channels };
}

/**
 * The model's input for one image, 1×C×H×W: bilinear resize (antialiased, as torchvision's Resize
 * on a PIL image) to the trained H×W (or, when the run recorded evalResize, Resize(evalResize) +
 * CenterCrop(H×W) as its validation did), grayscale ↔ RGB to the trained channels (luma 0.2989 R +
 * 0.587 G + 0.114 B, or the gray plane repeated), /255, then (x − mean) / std per channel.
 */
export function preprocessForModel(image: DecodedImage, facts: ModelInputFacts): Float32Array {
  const [c, h, w] = facts.inputShape;
  if (c !== 1 && c !== 3) {
    throw new ImageError(`the model takes ${c}-channel input; only 1 (grayscale) and 3 (RGB) can come from an image file`);
  }
  let img = imageToFloat(image);
  if (facts.evalResize !== undefined) {
    const [rh, rw] = new Resize(facts.evalResize).outputSize(img.height, img.width);
    img = centerCrop(resize(img, rh, rw), h, w);
  } else if (img.height !== h || img.width !== w) {
    img = resize(img, h, w);
  }
  if (img.channels !== c) img = rgbToGrayscale(img, c);
  return normalize(img, facts.mean, facts.std).data;
}

