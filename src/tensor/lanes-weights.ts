// Convolution weights reordered for the channels-in-lanes loops (native/conv/conv_lanes.h), cached
// for eval's forward passes by derived-weights: reordering 512 × 512 × 3 × 3 weights per call cost
// more than the convolution itself on one 7×7 image.
import { native } from './native.js';
import { derivedWeights } from './derived-weights.js';

const lanes = derivedWeights((p, threads) => native.conv2dLanesFloats(p, threads),
  (p, w, out, threads) => native.conv2dLanesWeights(p, w, out, threads));

/** How many weight reorders ran in this process (tests check that eval reuses them). */
export const lanesReorderCount = lanes.builds;
/** w reordered for a forward pass of p on `threads` threads, or undefined where that pass would not take the lanes loops. */
export const lanesWeights = lanes.get;
