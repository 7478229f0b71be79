// Convolution weights transformed for Winograd F(4×4, 3×3) (native/conv/winograd.h), for forward
// passes that record no gradient (eval). The transform is cached per weight tensor and rebuilt
// only when weights may have changed (weights-generation, as eval's BatchNorm folding), into the
// same storage, so repeated eval steps neither transform nor allocate; the native shape choice
// says where the path wins, and only there is a transform made at all.
import type { Tensor } from './tensor.js';
import { native, type ConvParams } from './native.js';
import { weightsGeneration } from './weights-generation.js';

interface Transformed {
  generation: number;
  /** The weights' storage it was made from (a tensor whose data is replaced rebuilds). */
  source: Float32Array;
  data: Float32Array;
}

const cache = new WeakMap<Tensor, Transformed>();
let transforms = 0;

/** How many weight transforms ran in this process (tests check that eval reuses them). */
export function winogradTransformCount(): number {
  return transforms;
}

/** w transformed for a forward pass of p on `threads` threads, or undefined where that pass would not take Winograd. */
export function winogradWeights(p: ConvParams, w: Tensor, threads: number): Float32Array | undefined {
  const floats = native.conv2dWinogradFloats(p, threads);
  if (floats === 0) return undefined;
  const cached = cache.get(w);
  if (cached && cached.generation === weightsGeneration() && cached.source === w.data && cached.data.length === floats) return cached.data;
  const data = cached && cached.data.length === floats ? cached.data : new Float32Array(floats);
  native.conv2dWinogradWeights(p, w.data, data, threads);
  transforms++;
  cache.set(w, { generation: weightsGeneration(), source: w.data, data });
  return data;
}
