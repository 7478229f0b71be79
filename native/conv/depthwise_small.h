// Depthwise convolution vectorized across channels (depthwise_lanes.h): the forward pass of every
// map (large ones in bands of rows), and the gradients of maps whose padded plane is too small
// for the stride-phase rows of depthwise.cc to be long vectors.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether the channel-vector path runs this pass of p (groups == Cin == Cout): where it is the
// faster one, by measurement (forward always; the gradients up to a 32×32 padded map).
bool depthwise_small_suits(const Conv2dParams& p, ConvPass pass);
// Auto chooses by shape; Always and Never pin one path for every depthwise convolution, so the
// tests and `cnn bench` can run both on the same shapes. Process-wide.
enum class DepthwiseSmall { Auto, Always, Never };
void set_depthwise_small(DepthwiseSmall mode);
// Whether the mode is Auto (the other depthwise paths, depthwise_planes.h, run only then).
bool depthwise_small_auto();

void depthwise_small_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                             int threads, const ConvEpilogue& e);
void depthwise_small_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx,
                                    int threads);
void depthwise_small_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                                     int threads);

}  // namespace cnn
