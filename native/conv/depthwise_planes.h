// Depthwise convolution of maps of 2 or 4 pixels (MobileNetV2's 2×2 layers at 32×32 input) as
// one small dense matrix per channel: every output pixel reads every input pixel through one tap,
// so y[c][o] = Σ_i w[c][tap(o, i)]·x[c][i] needs no padding, no transposes and no
// multiplications by padding. The lanes run over the NCHW floats as they lie, whole planes per
// vector (depthwise_lanes.h: plane_mix, plane_outer), where the channel-vector path transposed
// each block of 16 planes of 4 pixels into 16 pixel vectors and back and ran 9 taps per pixel.
#pragma once
#include "conv/conv.h"

namespace cnn {

// Whether p (groups == Cin == Cout) takes this path: a map of 2 or 4 pixels whose output has as
// many, each output pixel reading each input pixel through a tap; and the depthwise paths not
// pinned (set_depthwise_small(Auto)).
bool depthwise_planes_suits(const Conv2dParams& p);

// Each returns false, having done nothing, where depthwise_planes_suits(p) is false.
bool depthwise_planes_forward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y,
                              int threads, const ConvEpilogue& e);
bool depthwise_planes_backward_input(const Conv2dParams& p, const float* dy, const float* w, float* dx, int threads);
// Each channel's sums run over the images in order on one thread, in double: the same bits at
// any thread count.
bool depthwise_planes_backward_weight(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db,
                                      int threads);

}  // namespace cnn
