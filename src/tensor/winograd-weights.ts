// Convolution weights transformed for Winograd F(4×4, 3×3) (native/conv/winograd.h), cached for
// eval's forward passes by derived-weights.
import { native } from './native.js';
import { derivedWeights } from './derived-weights.js';

const winograd = derivedWeights((p, threads) => native.conv2dWinogradFloats(p, threads),
  (p, w, u, threads) => native.conv2dWinogradWeights(p, w, u, threads));

/** How many weight transforms ran in this process (tests check that eval reuses them). */
export const winogradTransformCount = winograd.builds;
/** w transformed for a forward pass of p on `threads` threads, or undefined where that pass would not take Winograd. */
export const winogradWeights = winograd.get;
