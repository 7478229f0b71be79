// Depthwise 3×3 convolution at stride and dilation 1 on AVX-512 of maps whose output rows are 7-16
// pixels (MobileNetV2's and EfficientNet's 16×16 and 8×8 layers at 32×32 input, their 14×14 and 7×7
// ones at 224×224): one output row is one vector, each tap a masked load of an input row at its
// column offset and one FMA, on the NCHW planes as they lie (narrow_rows.h). The channel-vector path
// (depthwise_small.h) transposed every block of 16 planes into pixel vectors and back, which cost
// more than its FMAs on such maps. The input gradient at stride 1 is the same loop over dy with the
// kernel turned around.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether this path runs the pass (forward or input gradient) of p (groups == Cin == Cout): the
// active ISA is AVX-512, the kernel 3×3, stride and dilation 1, padding at most 2, the pass's output
// rows 7-16 pixels, and the depthwise paths not pinned (set_depthwise_small(Auto)).
bool depthwise_narrow_suits(const Conv2dParams& p, ConvPass pass);

// Each returns false, having done nothing, where depthwise_narrow_suits(p, its pass) is false.
bool depthwise_narrow_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                              int threads, const ConvEpilogue& e);
bool depthwise_narrow_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads);

}  // namespace cnn
