// Convolutions whose input map is no larger than the kernel (ResNet's 2×2 and 1×1 maps at CIFAR
// sizes) as dense linear maps of whole images: out[b, co·P + p] = Σ_(ci, q) Wd[co·P + p, ci·HW + q]
// · x[b, ci·HW + q], Wd zero where no tap joins input pixel q to output pixel p. In NCHW the input
// already is the B × Cin·HW matrix and the output the B × Cout·P one, so each pass is one GEMM
// with the batch as M and no column matrix: on 2×2 maps with a 3×3 pad-1 kernel it multiplies 16
// pairs per (Cin, Cout) where im2col multiplies 36.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether p can run as a dense map: ungrouped or groups of 8+ input channels (ResNeXt's), H·W <=
// KH·KW and OH·OW <= KH·KW. Grouped layers multiply one Wd block per group.
bool conv_dense_map_fits(const Conv2dParams& p);
// Whether the shape choice (Auto) takes it for this pass (the crossover measured against the
// other paths: bench/dense-map-crossover.mjs); cached: a forward call given Wd (eval's cache).
bool conv_dense_map_wins(const Conv2dParams& p, ConvPass pass, int threads, bool cached);
// Floats of Wd: groups × (Cout·OH·OW × Cin·H·W) / groups².
long dense_map_weights_floats(const Conv2dParams& p);
// Wd (Cout·P × Cin·HW, row-major, as w is Cout × Cin·taps) from w's taps. Eval caches it per weight version.
void dense_map_weights(const Conv2dParams& p, const float* w, float* wd, int threads);
// The same for one group with the columns in pixel-major order (input pixel q of channel ci in
// column q·Cin + ci: an NHWC image's order), as DenseNet's layer on tiny maps multiplies it (dense_layer.h).
void dense_map_weights_by_pixel(const Conv2dParams& p, const float* w, float* wd, int threads);
// Wd packed for the forward pass's GEMM (eval's cache): floats for the active ISA, and the packing.
long dense_map_packed_floats(const Conv2dParams& p);
void dense_map_pack(const Conv2dParams& p, const float* w, float* out, int threads);
// y = x·Wdᵀ, then the bias and the epilogue; wd: w made dense by dense_map_weights, or null to
// make it here for this call; packed: Wd packed by dense_map_pack, multiplied as it is where it
// was packed for the active ISA (else unused).
void conv2d_forward_dense_map(const Conv2dParams& p, const float* x, const float* w, const float* wd, const float* b,
                              float* y, int threads, const ConvEpilogue& e, const float* packed = nullptr);
// dx = dy·Wd; wd: w made dense by dense_map_weights (the training forward's), or null to make it here.
void conv2d_backward_input_dense_map(const Conv2dParams& p, const float* dy, const float* w, const float* wd, float* dx,
                                     int threads);
// dWd = dyᵀ·x, folded back into the taps (each tap the sum of the entries it joins); db may be null.
void conv2d_backward_weight_dense_map(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                                      int threads);

}  // namespace cnn
