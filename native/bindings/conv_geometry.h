// A convolution's spatial geometry read from a binding's parameter object, shared by the
// convolution and inverted-residual bindings so both accept and refuse the same fields.
#pragma once

#include "bindings/args.h"
#include "conv/conv.h"

namespace cnn_binding {

// Largest size field a convolution parameter object may hold.
constexpr int64_t kMaxConvSide = 100000000;

// f's field `name` as an int in [lo, kMaxConvSide].
int conv_field(const Fields& f, const char* name, int64_t lo);

// {n, cIn, h, w, cOut, kh, kw, strideH, strideW, padT, padB, padL, padR, dilH, dilW, groups} of f,
// checked (groups divide the channels, the kernel fits, every size the passes imply in range).
cnn::Conv2dParams read_conv_params(const Args& a, const Fields& f);

// h, w, kh, kw, strideH/W, padT/B/L/R, dilH/W into p; refuses a dilated kernel larger than the padded input.
void read_conv_geometry(const Args& a, const Fields& f, cnn::Conv2dParams& p);

}  // namespace cnn_binding
