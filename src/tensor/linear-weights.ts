// A Linear layer's weights packed whole for the GEMM (native gemmPackB), cached for eval's forward
// passes by derived-weights: packing them per call cost convnext_tiny's eval 3% and
// mobilenet_v3_small's 4%. Linear layers and convolutions on 1×1 maps use it, under the contract
// of eval's other weight caches (a layer's weights change in place only through what moves
// weights-generation); ops.linear on bare tensors packs per call (gradcheck perturbs its operands).
import { native } from './native.js';
import { derivedWeights } from './derived-weights.js';

/** A Linear product's weight: outFeatures × inFeatures, multiplied transposed. */
export interface LinearShape {
  outFeatures: number;
  inFeatures: number;
}

const packed = derivedWeights<LinearShape>((p) => native.gemmPackedFloats(p.outFeatures, p.inFeatures),
  (p, w, out) => native.gemmPackB({ transB: true, n: p.outFeatures, k: p.inFeatures, ldb: p.inFeatures }, w, out));

/** How many Linear weights were packed in this process (tests check that eval reuses them). */
export const linearPackCount = packed.builds;
/** w (outFeatures × inFeatures) packed as the GEMM multiplies it, cached per weight version. */
export const linearPackedWeights = packed.get;
