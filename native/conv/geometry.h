// Output positions along one axis whose input tap lands inside the image.
#pragma once
#include <algorithm>

namespace cnn {

// For taps at o*stride + off (off = k*dilation - pad), the outputs o in [lo, hi) read
// an input index in [0, in); the rest read padding.
inline void valid_range(int out, int in, int stride, int off, int* lo, int* hi) {
  const int a = off >= 0 ? 0 : (-off + stride - 1) / stride;
  const int b = in - off <= 0 ? 0 : (in - off + stride - 1) / stride;
  *lo = std::min(a, out);
  *hi = std::max(*lo, std::min(b, out));
}

}  // namespace cnn
