// Depthwise 3×3 convolution at stride and dilation 1 on AVX-512, row by row on the NCHW planes as
// they lie (depthwise_3x3_rows.h): each block of 16 pixels of an output row is one vector, each tap
// a masked load of an input row at its column offset and one FMA, so no plane is transposed,
// padded or split into phases. The input gradient is the same loop over dy with the kernel turned
// around; the weight gradient, a product of each dy row with each tap's input row. Forward, against the channel-vector path (depthwise_small.h, which transposed every block
// of 16 planes into pixel vectors and back), and for the input gradient, against the stride-phase
// rows (depthwise.cc) and the channel-vector path on small maps: MobileNetV2's layers from 112×112
// to 7×7 in training, its first block's 16×16 one in eval at 32×32.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether this path runs the pass of p (groups == Cin == Cout): the active ISA is AVX-512, the
// kernel 3×3, stride and dilation 1, padding at most 2, the pass's output rows 7-256 pixels (the
// weight gradient's: the forward pass's, on maps the channel-vector path leaves), and the
// depthwise paths not pinned (set_depthwise_small(Auto)).
bool depthwise_3x3_suits(const Conv2dParams& p, ConvPass pass);

// Each returns false, having done nothing, where depthwise_3x3_suits(p, its pass) is false.
bool depthwise_3x3_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                           int threads, const ConvEpilogue& e);
bool depthwise_3x3_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads);
// Each channel's sums run over the images in order on one thread (in float over runs of about
// 256 vectors of a row's pixels, the runs in double): the same bits at any thread count.
bool depthwise_3x3_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                                   int threads);

}  // namespace cnn
