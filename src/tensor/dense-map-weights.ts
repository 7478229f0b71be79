// Convolution weights as the dense map of whole images (native/conv/dense_map.h: Cin·H·W × Cout·OH·OW),
// packed for the forward GEMM, cached for eval's forward passes by derived-weights.
import { native } from './native.js';
import { derivedWeights } from './derived-weights.js';

const denseMap = derivedWeights((p, threads) => native.conv2dDenseMapPackedFloats(p, threads),
  (p, w, packed, threads) => native.conv2dDenseMapPack(p, w, packed, threads));

/** How many dense maps were built in this process (tests check that eval reuses them). */
export const denseMapBuildCount = denseMap.builds;
/** w as the dense map packed for a forward pass of p on `threads` threads, or undefined where that pass would not take it. */
export const denseMapWeights = denseMap.get;
