// The column matrix of a convolution (im2col) and its adjoint, for output pixels [q0, q1) of
// one image: row (c, ki, kj) of col holds, at column q − q0, the input tap of that pixel.
#pragma once
#include "conv/conv.h"

namespace cnn {

// col (cig·KH·KW rows, stride ldc) from one image's group planes x (cig × H × W); padding reads 0.
void im2col(const Conv2dParams& p, const float* x, int cig, int q0, int q1, float* col, long ldc);
// dx (cig × H × W) += the scatter of col back onto the taps it was gathered from.
void col2im_add(const Conv2dParams& p, const float* col, int cig, int q0, int q1, long ldc, float* dx);

}  // namespace cnn
