// 2-D padding of the last two axes of a stack of H×W planes (NCHW or CHW), PyTorch's modes.
#pragma once
#include <cstdint>

namespace cnn {

enum class PadMode { Zeros = 0, Reflect = 1, Replicate = 2, Circular = 3 };

struct Pad2dParams {
  int64_t planes, h, w;
  int64_t left, right, top, bottom;  // all >= 0
  PadMode mode;
  int64_t out_h() const { return h + top + bottom; }
  int64_t out_w() const { return w + left + right; }
};

// Empty string when the mode can pad this plane, else why not (PyTorch's limits: reflect
// needs each pad < its dimension, circular <= it, replicate and reflect a non-empty plane).
const char* pad2d_check(const Pad2dParams& p);

// y = pad(x); the constant mode fills with `value`.
void pad2d_forward(const Pad2dParams& p, const float* x, float value, float* y, int threads);
// dx = 0, then every output's gradient is added to the input it copies (reflect, replicate and
// circular copy some inputs several times; the constant mode drops the border's gradient).
void pad2d_backward(const Pad2dParams& p, const float* dy, float* dx, int threads);

}  // namespace cnn
