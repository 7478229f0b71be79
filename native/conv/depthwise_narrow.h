// Depthwise 3×3 (or smaller) convolution at stride 1 on AVX-512 of maps whose output rows fill a
// vector, 14-16 pixels (MobileNetV2's and EfficientNet's first blocks at 32×32 input run on 16×16
// maps, their 14×14 layers at 224×224 in training): one output row is one vector, each tap a masked load of an input row at its column
// offset and one FMA, on the NCHW planes as they lie (narrow_rows.h). The channel-vector path
// (depthwise_small.h) transposed every block of 16 planes into pixel vectors and back, which cost
// more than its FMAs on such maps. The input gradient at stride 1 is the same loop over dy with the
// kernel turned around.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether this path runs the pass (forward or input gradient) of p (groups == Cin == Cout): the
// active ISA is AVX-512, the stride 1, the kernel at most 3×3, the pass's output rows 14-16 pixels,
// and the depthwise paths not pinned (set_depthwise_small(Auto)).
bool depthwise_narrow_suits(const Conv2dParams& p, ConvPass pass);

// Each returns false, having done nothing, where depthwise_narrow_suits(p, its pass) is false.
bool depthwise_narrow_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                              int threads, const ConvEpilogue& e);
bool depthwise_narrow_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads);

}  // namespace cnn
