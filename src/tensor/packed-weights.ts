// Convolution weights packed for the GEMM of the by-image forward path (native/conv/conv_by_image.h),
// cached for eval's forward passes by derived-weights: packing them per call ran on one thread
// while the other waited (resnet50's eval: 5% of its time).
import { native } from './native.js';
import { derivedWeights } from './derived-weights.js';

const packed = derivedWeights((p, threads) => native.conv2dPackedFloats(p, threads),
  (p, w, out, threads) => native.conv2dPackWeights(p, w, out, threads));

/** How many weight packings ran in this process (tests check that eval reuses them). */
export const packCount = packed.builds;
/** w packed for a forward pass of p on `threads` threads, or undefined where that pass does not go by image. */
export const packedWeights = packed.get;
