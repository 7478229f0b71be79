// Batch augmentation: the native augmenter (what the loader runs) and the TypeScript reference
// it is tested against. Sample k of a batch draws only from new Generator(seeds[k]), so a batch
// depends on its seeds, never on the thread count.
import { native, getThreads } from '../tensor/native.js';
import { Generator } from '../tensor/random.js';
import { toTensorImage, type ImageShape } from './image.js';
import type { AugmentOp, Transform } from './transforms.js';

/** A transform resolved for one input shape: the native ops and the output shape. */
export interface AugmentPlan {
  input: ImageShape;
  output: ImageShape;
  ops: AugmentOp[];
}

export function planAugment(transform: Transform, input: ImageShape): AugmentPlan {
  const { ops, shape } = transform.describe(input);
  // The native side walks the same shapes; disagreeing would write the wrong amount.
  const [c, h, w] = native.augmentOutputShape([input.channels, input.height, input.width], ops);
  if (c !== shape.channels || h !== shape.height || w !== shape.width) {
    throw new Error(`internal: transform output ${shape.channels}x${shape.height}x${shape.width} disagrees with the native ${c}x${h}x${w}`);
  }
  return { input, output: shape, ops };
}

export function outputLength(plan: AugmentPlan, n: number): number {
  return n * plan.output.channels * plan.output.height * plan.output.width;
}

function shapeArray(s: ImageShape): number[] {
  return [s.channels, s.height, s.width];
}

/** One seed per sample from the generator (the loader's seeded stream). */
export function drawSeeds(gen: Generator, n: number): Uint32Array {
  const seeds = new Uint32Array(n);
  for (let i = 0; i < n; i++) seeds[i] = gen.nextUint32();
  return seeds;
}

/** Native, on this thread: images[indices[k]] → float32 N×C×H×W. */
export function augmentBatch(plan: AugmentPlan, images: Uint8Array, indices: Int32Array, seeds: Uint32Array,
  threads = getThreads(), out = new Float32Array(outputLength(plan, indices.length))): Float32Array {
  native.augmentBatch({ images, imageShape: shapeArray(plan.input), indices, seeds, ops: plan.ops, out, threads });
  return out;
}

/** Native, on the libuv pool: the JS thread stays free until the promise settles. */
export async function augmentBatchAsync(plan: AugmentPlan, images: Uint8Array, indices: Int32Array, seeds: Uint32Array,
  threads = getThreads(), out = new Float32Array(outputLength(plan, indices.length))): Promise<Float32Array> {
  await native.augmentBatchAsync({ images, imageShape: shapeArray(plan.input), indices, seeds, ops: plan.ops, out, threads });
  return out;
}

/** The pure-TypeScript reference of augmentBatch, for tests. */
export function augmentBatchReference(transform: Transform, input: ImageShape, images: Uint8Array, indices: Int32Array,
  seeds: Uint32Array): Float32Array {
  const per = input.channels * input.height * input.width;
  const parts: Float32Array[] = [];
  for (let k = 0; k < indices.length; k++) {
    const img = toTensorImage(images.subarray(indices[k] * per, (indices[k] + 1) * per), input);
    parts.push(transform.apply(img, new Generator(seeds[k])).data);
  }
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
