// The weight gradient of 1×1 convolutions (stride 1, no padding, ungrouped) on small maps, where
// the GEMM paths copy runs of images side by side and pack both operands into panels for a
// product only 16-144 deep in one dimension: here each image's planes are read in place.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether pointwise_backward_weight takes p: maps of 65 to 256 pixels (on 8×8 ones the GEMM's
// runs of images measured as fast; from 257 the direct loops win) and weights small enough
// (Cout·Cin up to 4096) that each thread's vector sums stay in L2.
bool pointwise_weight_suits(const Conv2dParams& p);
// dw = Σ_n dY_n · X_nᵀ (the bias gradient is the caller's). False, touching nothing, where
// pointwise_weight_suits(p) is false.
bool pointwise_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, int threads);

}  // namespace cnn
