#include "bindings/conv_geometry.h"

#include <string>

namespace cnn_binding {

int conv_field(const Fields& f, const char* name, int64_t lo) { return (int)f.integer(name, lo, kMaxConvSide); }

cnn::Conv2dParams read_conv_params(const Args& a, const Fields& f) {
  cnn::Conv2dParams p;
  p.n = conv_field(f, "n", 1); p.c_in = conv_field(f, "cIn", 1); p.c_out = conv_field(f, "cOut", 1);
  p.groups = conv_field(f, "groups", 1);
  if (p.c_in % p.groups || p.c_out % p.groups)
    a.range_error("groups (" + std::to_string(p.groups) + ") must divide cIn (" + std::to_string(p.c_in) +
                  ") and cOut (" + std::to_string(p.c_out) + ")");
  read_conv_geometry(a, f, p);
  a.check_size({p.n, p.c_in, p.h, p.w}, "convolution input");
  a.check_size({p.n, p.c_out, p.out_h(), p.out_w()}, "convolution output");
  a.check_size({p.c_in / p.groups, p.kh, p.kw, p.out_h(), p.out_w()}, "convolution column matrix", kMaxIndex);
  a.check_size({p.c_out, p.c_in / p.groups, p.kh, p.kw}, "convolution weight");
  return p;
}

void read_conv_geometry(const Args& a, const Fields& f, cnn::Conv2dParams& p) {
  p.h = conv_field(f, "h", 1), p.w = conv_field(f, "w", 1), p.kh = conv_field(f, "kh", 1), p.kw = conv_field(f, "kw", 1);
  p.stride_h = conv_field(f, "strideH", 1), p.stride_w = conv_field(f, "strideW", 1);
  p.pad_t = conv_field(f, "padT", 0), p.pad_b = conv_field(f, "padB", 0);
  p.pad_l = conv_field(f, "padL", 0), p.pad_r = conv_field(f, "padR", 0);
  p.dil_h = conv_field(f, "dilH", 1), p.dil_w = conv_field(f, "dilW", 1);
  const int64_t eff_h = (int64_t)p.dil_h * (p.kh - 1) + 1, eff_w = (int64_t)p.dil_w * (p.kw - 1) + 1;
  if ((int64_t)p.h + p.pad_t + p.pad_b < eff_h || (int64_t)p.w + p.pad_l + p.pad_r < eff_w)
    a.range_error("kernel (" + std::to_string(eff_h) + "x" + std::to_string(eff_w) +
                  " with dilation) is larger than the padded input");
}

}  // namespace cnn_binding
