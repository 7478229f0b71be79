// A recording convolution whose forward and input-gradient passes both take the dense map
// (native/conv/dense_map.h: ResNet's 2×2 and 1×1 maps at 3×32×32) builds Wd once for the two,
// where each pass built its own: the weights cannot change between a step's forward and its
// backward. One buffer per weight tensor and geometry (a weight applied to two map sizes in one
// step keeps both), kept across steps, so steady steps allocate nothing.
import { native, type ConvParams } from './native.js';
import type { Tensor } from './tensor.js';

const buffers = new WeakMap<Tensor, Map<string, Float32Array>>();

/** What Wd depends on: everything but the batch. */
function geometry(p: ConvParams): string {
  return [p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padT, p.padB, p.padL, p.padR, p.dilH, p.dilW].join(',');
}

/** w as the dense map for this step's forward and input gradient of p, or undefined where they do not both take it. */
export function trainingDenseMap(p: ConvParams, w: Tensor, threads: number): Float32Array | undefined {
  const length = native.conv2dDenseMapFloats(p, threads);
  if (length === 0 || native.convAlgo(p, 'forward', threads) !== 'dense-map' || native.convAlgo(p, 'backwardInput', threads) !== 'dense-map') {
    return undefined;
  }
  let byGeometry = buffers.get(w);
  if (!byGeometry) buffers.set(w, (byGeometry = new Map()));
  const key = geometry(p);
  let wd = byGeometry.get(key);
  if (wd?.length !== length) byGeometry.set(key, (wd = new Float32Array(length)));
  native.conv2dDenseMapWeights(p, w.data, wd, threads);
  return wd;
}
