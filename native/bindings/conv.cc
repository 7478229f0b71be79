// Bindings for native/conv: the parameter object is checked once (groups, kernel against the
// padded input, sizes) and every buffer against the lengths it implies.
#include <napi.h>

#include <string>

#include "bindings/registry.h"
#include "conv/conv.h"

namespace {

using namespace cnn_binding;

constexpr int64_t kMaxSide = 100000000;

// {n, cIn, h, w, cOut, kh, kw, strideH, strideW, padT, padB, padL, padR, dilH, dilW, groups}
cnn::Conv2dParams read_conv(const Args& a, size_t i) {
  const Fields f = a.object(i, "params");
  auto field = [&](const char* name, int64_t lo) { return (int)f.integer(name, lo, kMaxSide); };
  cnn::Conv2dParams p;
  p.n = field("n", 1); p.c_in = field("cIn", 1); p.h = field("h", 1); p.w = field("w", 1);
  p.c_out = field("cOut", 1); p.kh = field("kh", 1); p.kw = field("kw", 1);
  p.stride_h = field("strideH", 1); p.stride_w = field("strideW", 1);
  p.pad_t = field("padT", 0); p.pad_b = field("padB", 0); p.pad_l = field("padL", 0); p.pad_r = field("padR", 0);
  p.dil_h = field("dilH", 1); p.dil_w = field("dilW", 1); p.groups = field("groups", 1);
  if (p.c_in % p.groups || p.c_out % p.groups)
    a.range_error("groups (" + std::to_string(p.groups) + ") must divide cIn (" + std::to_string(p.c_in) +
                  ") and cOut (" + std::to_string(p.c_out) + ")");
  const int64_t eff_h = (int64_t)p.dil_h * (p.kh - 1) + 1, eff_w = (int64_t)p.dil_w * (p.kw - 1) + 1;
  if ((int64_t)p.h + p.pad_t + p.pad_b < eff_h || (int64_t)p.w + p.pad_l + p.pad_r < eff_w)
    a.range_error("kernel (" + std::to_string(eff_h) + "x" + std::to_string(eff_w) +
                  " with dilation) is larger than the padded input");
  a.check_size({p.n, p.c_in, p.h, p.w}, "convolution input");
  a.check_size({p.n, p.c_out, p.out_h(), p.out_w()}, "convolution output");
  a.check_size({p.c_in / p.groups, p.kh, p.kw, p.out_h(), p.out_w()}, "convolution column matrix", kMaxIndex);
  a.check_size({p.c_out, p.c_in / p.groups, p.kh, p.kw}, "convolution weight");
  return p;
}

int64_t x_size(const cnn::Conv2dParams& p) { return (int64_t)p.n * p.c_in * p.h * p.w; }
int64_t w_size(const cnn::Conv2dParams& p) { return (int64_t)p.c_out * (p.c_in / p.groups) * p.kh * p.kw; }
int64_t y_size(const cnn::Conv2dParams& p) { return (int64_t)p.n * p.c_out * p.out_h() * p.out_w(); }

// (params, x, w, b|null, y[, threads]): the reference takes no thread count.
template <bool Ref>
Napi::Value Forward(const Args& a) {
  a.expect_count(Ref ? 5 : 6);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const float* x = a.floats(1, "x", x_size(p));
  const float* w = a.floats(2, "w", w_size(p));
  const float* b = a.floats_or_null(3, "b", p.c_out);
  float* y = a.floats(4, "y", y_size(p));
  if (Ref) cnn::conv2d_ref_forward(p, x, w, b, y);
  else cnn::conv2d_forward(p, x, w, b, y, a.threads(5));
  return a.undefined();
}

// (params, dy, w, dx[, threads])
template <bool Ref>
Napi::Value BackwardInput(const Args& a) {
  a.expect_count(Ref ? 4 : 5);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const float* dy = a.floats(1, "dy", y_size(p));
  const float* w = a.floats(2, "w", w_size(p));
  float* dx = a.floats(3, "dx", x_size(p));
  if (Ref) cnn::conv2d_ref_backward_input(p, dy, w, dx);
  else cnn::conv2d_backward_input(p, dy, w, dx, a.threads(4));
  return a.undefined();
}

// (params, x, dy, dw, db|null[, threads])
template <bool Ref>
Napi::Value BackwardWeight(const Args& a) {
  a.expect_count(Ref ? 5 : 6);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const float* x = a.floats(1, "x", x_size(p));
  const float* dy = a.floats(2, "dy", y_size(p));
  float* dw = a.floats(3, "dw", w_size(p));
  float* db = a.floats_or_null(4, "db", p.c_out);
  if (Ref) cnn::conv2d_ref_backward_weight(p, x, dy, dw, db);
  else cnn::conv2d_backward_weight(p, x, dy, dw, db, a.threads(5));
  return a.undefined();
}

// (name): 'auto' | 'depthwise' | 'grid' | 'by-image' | 'batched' (CNN_CONV_ALGO)
Napi::Value SetConvAlgo(const Args& a) {
  a.expect_count(1);
  const std::string name = a.string(0, "algo");
  cnn::ConvAlgo algo;
  if (!cnn::parse_conv_algo(name, &algo))
    a.range_error("unknown convolution algorithm '" + name + "' (expected auto, depthwise, grid, by-image or batched)");
  cnn::set_conv_algo(algo);
  return a.undefined();
}

// (params, pass, threads) → the path conv2d{Forward,BackwardInput,BackwardWeight} takes;
// pass 'forward' | 'backwardInput' | 'backwardWeight'.
Napi::Value ConvAlgo(const Args& a) {
  a.expect_count(3);
  const cnn::Conv2dParams p = read_conv(a, 0);
  const std::string pass = a.string(1, "pass");
  cnn::ConvPass which;
  if (pass == "forward") which = cnn::ConvPass::Forward;
  else if (pass == "backwardInput") which = cnn::ConvPass::BackwardInput;
  else if (pass == "backwardWeight") which = cnn::ConvPass::BackwardWeight;
  else a.range_error("unknown pass '" + pass + "' (expected forward, backwardInput or backwardWeight)");
  return Napi::String::New(a.env(), cnn::conv_algo_name(cnn::conv2d_algo(p, which, a.threads(2))));
}

const Registration rows({
    {"conv2dForward", Forward<false>},
    {"conv2dBackwardInput", BackwardInput<false>},
    {"conv2dBackwardWeight", BackwardWeight<false>},
    {"conv2dRefForward", Forward<true>},
    {"conv2dRefBackwardInput", BackwardInput<true>},
    {"conv2dRefBackwardWeight", BackwardWeight<true>},
    {"setConvAlgo", SetConvAlgo},
    {"convAlgo", ConvAlgo},
});

}  // namespace
