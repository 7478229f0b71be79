// What the image-inspecting commands share: finding the checkpoint, loading its model, and
// reading an image into the model's input, with every user mistake as one UserError.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { modelFromCheckpoint, type Checkpoint, type LoadOptions } from '../train/checkpoint.js';
import { readImage, type DecodedImage, type ReadImageOptions } from '../io/image.js';
import { preprocessForModel } from '../data/preprocess.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';

/** The most recently written best.bin under root (depth first), or null. */
export function newestBestCheckpoint(root: string): string | null {
  let best: { file: string; mtime: number } | null = null;
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && depth < 8) walk(full, depth + 1);
      else if (e.isFile() && e.name === 'best.bin') {
        const mtime = statSync(full).mtimeMs;
        if (!best || mtime > best.mtime) best = { file: full, mtime };
      }
    }
  };
  walk(root, 0);
  return (best as { file: string } | null)?.file ?? null;
}

export interface LoadedModel {
  path: string;
  /** True when the path was not given and the newest runs/**\/best.bin was chosen. */
  defaulted: boolean;
  model: Module;
  checkpoint: Checkpoint;
}

export function loadModelForImages(checkpointPath: string | undefined, options: LoadOptions = {}): LoadedModel {
  let file = checkpointPath;
  const defaulted = file === undefined;
  if (file === undefined) {
    file = newestBestCheckpoint(path.resolve('runs')) ?? undefined;
    if (!file) throw new UserError('no --checkpoint given and no runs/**/best.bin found here; train a model or pass --checkpoint <file>');
    file = path.relative(process.cwd(), file) || file;
  }
  try {
    statSync(file);
  } catch {
    throw new UserError(`checkpoint ${file}: no such file`);
  }
  const loaded = modelFromCheckpoint(file, options);
  const { model: config, dataset } = loaded.checkpoint;
  if (!Array.isArray(dataset?.inputShape) || dataset.inputShape.length !== 3) {
    throw new UserError(`checkpoint ${file} does not record the input shape its model was trained on`);
  }
  if (config.inChannels !== dataset.inputShape[0]) {
    throw new UserError(`checkpoint ${file} is inconsistent: its model takes ${config.inChannels} channels but its dataset has ${dataset.inputShape[0]}`);
  }
  return { path: file, defaulted, ...loaded };
}

export interface ImageInput {
  image: DecodedImage;
  /** 1×C×H×W, preprocessed as for training. */
  input: Tensor;
  /** Set when the image's channels or size differ from what the model was trained on. */
  mismatch: string | null;
}

/** "lenet5 trained on fashion-mnist-mini (1x28x28)". */
export function describeModel(loaded: LoadedModel): string {
  const { model, dataset } = loaded.checkpoint;
  return `${model.name} trained on ${dataset.name} (${dataset.inputShape.join('x')})`;
}

/** The line the image commands print first: which checkpoint and model they use. */
export function modelLine(loaded: LoadedModel): string {
  return `checkpoint: ${loaded.path}${loaded.defaulted ? ' (newest runs/**/best.bin)' : ''}, ${describeModel(loaded)}`;
}

function inputMismatch(file: string, image: DecodedImage, [c, h, w]: readonly number[]): string | null {
  const kind = (n: number) => (n === 1 ? 'grayscale' : 'RGB');
  const differs = [image.channels !== c ? `${kind(image.channels)} instead of ${kind(c)}` : '', image.width !== w || image.height !== h ? `${image.width}x${image.height} instead of ${w}x${h}` : '']
    .filter((s) => s);
  return differs.length ? `warning: ${file} is ${differs.join(' and ')}; it was converted to the model's input, and the model may never have seen images like it` : null;
}

export async function readImageForModel(file: string, loaded: LoadedModel, options: ReadImageOptions = {}): Promise<ImageInput> {
  const facts = loaded.checkpoint.dataset;
  const [c, h, w] = facts.inputShape;
  const image = await readImage(file, options);
  if (c !== 1 && c !== 3) {
    throw new UserError(`${file} has ${image.channels} channel${image.channels === 1 ? '' : 's'} but the checkpoint's model takes ${c}-channel input (an image file gives 1 or 3)`);
  }
  try {
    return { image, input: new Tensor(preprocessForModel(image, facts), [1, c, h, w]), mismatch: inputMismatch(file, image, facts.inputShape) };
  } catch (err) {
    throw new UserError(`${file}: ${(err as Error).message}`);
  }
}

/** "3" or a class name → index, checked against the checkpoint's classes. */
export function resolveClass(value: string, classes: readonly string[], numClasses: number): number {
  const byName = classes.indexOf(value);
  if (byName >= 0) return byName;
  const n = Number(value);
  if (value.trim() !== '' && Number.isInteger(n)) {
    if (n < 0 || n >= numClasses) throw new UserError(`class ${value} is out of range: the model has ${numClasses} classes (0 to ${numClasses - 1})`);
    return n;
  }
  const known = classes.length > 20 ? `${classes.slice(0, 20).join(', ')}, …` : classes.join(', ');
  throw new UserError(`unknown class '${value}' (classes: ${known})`);
}

/** image.png → <out or its folder>/image<suffix>. */
export function outputPath(imageFile: string, outDir: string | undefined, suffix: string): string {
  const base = path.basename(imageFile, path.extname(imageFile));
  return path.join(outDir ?? path.dirname(imageFile), `${base}${suffix}`);
}
