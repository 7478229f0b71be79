// Bindings for native/pool: every shape, window and buffer length is checked here, so no
// call from JavaScript can make a kernel read or write outside the arrays it was given.
#include <napi.h>

#include <cmath>
#include <string>

#include "bindings/args.h"
#include "bindings/registry.h"
#include "pool/pool.h"

namespace {

using namespace cnn_binding;

// Indices travel as float32: flat plane positions must stay exactly representable.
constexpr int64_t kMaxPlane = 1LL << 24;

void check_plane(const Args& a, int64_t planes, int64_t h, int64_t w) {
  if (h * w > kMaxPlane) a.range_error("an input plane larger than 2^24 elements is not supported");
  a.check_size({planes, h, w}, "input");
}

// Reads {n, c, h, w, kh, kw, strideH, strideW, padH, padW, [dilH, dilW,] ceilMode} and applies
// PyTorch's pool2d_shape_check, so the windows the kernels walk are the ones PyTorch walks.
cnn::Pool2dParams read_pool(const Fields& f, bool dilation, bool* ceil_mode) {
  const Args& a = f.args();
  cnn::Pool2dParams p;
  const int64_t n = f.integer("n", 1, kMaxIndex), c = f.integer("c", 1, kMaxIndex);
  p.h = f.integer("h", 1, kMaxIndex);
  p.w = f.integer("w", 1, kMaxIndex);
  p.planes = n * c;
  check_plane(a, p.planes, p.h, p.w);
  p.kh = (int)f.integer("kh", 1, 1 << 20);
  p.kw = (int)f.integer("kw", 1, 1 << 20);
  p.stride_h = (int)f.integer("strideH", 1, 1 << 20);
  p.stride_w = (int)f.integer("strideW", 1, 1 << 20);
  p.pad_h = (int)f.integer("padH", 0, p.kh / 2);
  p.pad_w = (int)f.integer("padW", 0, p.kw / 2);
  p.dil_h = dilation ? (int)f.integer("dilH", 1, 1 << 20) : 1;
  p.dil_w = dilation ? (int)f.integer("dilW", 1, 1 << 20) : 1;
  *ceil_mode = f.boolean("ceilMode");
  p.out_h = cnn::pool_output_size(p.h, p.kh, p.pad_h, p.stride_h, p.dil_h, *ceil_mode);
  p.out_w = cnn::pool_output_size(p.w, p.kw, p.pad_w, p.stride_w, p.dil_w, *ceil_mode);
  if (p.out_h < 1 || p.out_w < 1)
    a.range_error("output size " + std::to_string(p.out_h) + "x" + std::to_string(p.out_w) +
                  " is too small for input " + std::to_string(p.h) + "x" + std::to_string(p.w));
  a.check_size({p.planes, p.out_h, p.out_w}, "output");
  return p;
}

// (params, x, y, indices, threads) or, for the reference loop, (params, x, y, indices). indices
// may be null (inference); params.clamp [lo, hi] is eval fusion's ReLU/ReLU6 (not with Ref).
template <bool Ref>
Napi::Value MaxPool2dForward(const Args& a) {
  a.expect_count(Ref ? 4 : 5);
  bool ceil_mode;
  const Fields f = a.object(0, "params");
  cnn::Pool2dParams p = read_pool(f, true, &ceil_mode);
  const float* x = a.floats(1, "x", p.planes * p.h * p.w);
  float* y = a.floats(2, "y", p.planes * p.out_h * p.out_w);
  if (Ref) {
    cnn::max_pool2d_ref(p, x, y, a.floats(3, "indices", p.planes * p.out_h * p.out_w), 1);
    return a.undefined();
  }
  float* idx = a.floats_or_null(3, "indices", p.planes * p.out_h * p.out_w);
  double clamp[2] = {-INFINITY, INFINITY};
  if (f.present("clamp")) f.range("clamp", -INFINITY, INFINITY, clamp);
  cnn::max_pool2d_forward(p, x, y, idx, a.threads(4), (float)clamp[0], (float)clamp[1]);
  return a.undefined();
}

// params {planes, h, w, outH, outW} of the plane-wise pooling calls (adaptive pooling, max-pool backward).
struct PlaneArgs {
  int64_t planes, h, w, oh, ow;
};

PlaneArgs read_planes(const Args& a) {
  const Fields f = a.object(0, "params");
  PlaneArgs r;
  r.planes = f.integer("planes", 1, kMaxIndex);
  r.h = f.integer("h", 1, kMaxIndex);
  r.w = f.integer("w", 1, kMaxIndex);
  r.oh = f.integer("outH", 1, kMaxIndex);
  r.ow = f.integer("outW", 1, kMaxIndex);
  check_plane(a, r.planes, r.h, r.w);
  a.check_size({r.oh, r.ow}, "an output plane", kMaxPlane);
  a.check_size({r.planes, r.oh, r.ow}, "output");
  return r;
}

// (params, dy, indices, dx, threads): indices from maxPool2dForward or adaptiveMaxPool2dForward,
// each checked to be an integer in [-1, h·w). With Relu, (params, y, dy, indices, dx, threads):
// also ReLU's backward mask before the pool, from the pooled values y (conv2dMaxPoolForward's).
template <bool Relu>
Napi::Value MaxPoolBackward(const Args& a) {
  a.expect_count(Relu ? 6 : 5);
  const auto [planes, h, w, oh, ow] = read_planes(a);
  const int64_t out_n = planes * oh * ow;
  const size_t at = Relu ? 2 : 1;
  const float* y = Relu ? a.floats(1, "y", out_n) : nullptr;
  const float* dy = a.floats(at, "dy", out_n);
  const float* idx = a.floats(at + 1, "indices", out_n);
  float* dx = a.floats(at + 2, "dx", planes * h * w);
  const int threads = a.threads(at + 3);
  if (cnn::max_pool_pairs_backward(planes, h, w, oh, ow, dy, idx, dx, threads, y)) return a.undefined();
  const int64_t bad = cnn::first_bad_index(idx, out_n, h * w, threads);
  if (bad >= 0)
    a.range_error("indices[" + std::to_string(bad) + "] is " + std::to_string(idx[bad]) +
                  ", not an integer position in a " + std::to_string(h) + "x" + std::to_string(w) + " plane");
  cnn::max_pool_backward(planes, h * w, oh * ow, dy, idx, dx, threads, y);
  return a.undefined();
}

// Reads {n, c, h, w, kh, kw, strideH, strideW, padH, padW, ceilMode, countIncludePad,
// divisorOverride} (divisorOverride 0: none).
struct AvgArgs {
  cnn::Pool2dParams p;
  bool count_include_pad;
  int divisor_override;
};

AvgArgs read_avg(const Args& a, size_t i) {
  const Fields f = a.object(i, "params");
  AvgArgs r;
  bool ceil_mode;
  r.p = read_pool(f, false, &ceil_mode);
  r.count_include_pad = f.boolean("countIncludePad");
  r.divisor_override = (int)f.integer("divisorOverride", -kMaxIndex, kMaxIndex);
  return r;
}

// The buffers of a pass that reads one array and writes another: forward reads the input
// (x, in_size) and writes the output (y, out_size); backward reads dy and writes dx.
struct Pass {
  const float* src;
  float* dst;
};

Pass read_pass(const Args& a, size_t i, bool forward, int64_t in_size, int64_t out_size) {
  Pass r;
  r.src = a.floats(i, forward ? "x" : "dy", forward ? in_size : out_size);
  r.dst = a.floats(i + 1, forward ? "y" : "dx", forward ? out_size : in_size);
  return r;
}

using AvgKernel = void (*)(const cnn::Pool2dParams&, bool, int, const float*, float*, int);

// (params, x, y, threads) forward; (params, dy, dx, threads) backward; (params, x, y) the
// reference forward loop.
template <AvgKernel F, bool Forward, bool Ref = false>
Napi::Value AvgPool2d(const Args& a) {
  a.expect_count(Ref ? 3 : 4);
  const AvgArgs r = read_avg(a, 0);
  const Pass b = read_pass(a, 1, Forward, r.p.planes * r.p.h * r.p.w, r.p.planes * r.p.out_h * r.p.out_w);
  F(r.p, r.count_include_pad, r.divisor_override, b.src, b.dst, Ref ? 1 : a.threads(3));
  return a.undefined();
}

using AdaptiveKernel = void (*)(int64_t, int64_t, int64_t, int64_t, int64_t, const float*, float*, int);

// (params, x, y, threads) forward; (params, dy, dx, threads) backward; (params, x, y) the reference
template <AdaptiveKernel F, bool Forward, bool Ref = false>
Napi::Value AdaptiveAvgPool2d(const Args& a) {
  a.expect_count(Ref ? 3 : 4);
  const PlaneArgs r = read_planes(a);
  const Pass b = read_pass(a, 1, Forward, r.planes * r.h * r.w, r.planes * r.oh * r.ow);
  F(r.planes, r.h, r.w, r.oh, r.ow, b.src, b.dst, Ref ? 1 : a.threads(3));
  return a.undefined();
}

// (params, x, y, indices, threads)
Napi::Value AdaptiveMaxPool2dForward(const Args& a) {
  a.expect_count(5);
  PlaneArgs r = read_planes(a);
  const float* x = a.floats(1, "x", r.planes * r.h * r.w);
  float* y = a.floats(2, "y", r.planes * r.oh * r.ow);
  float* idx = a.floats(3, "indices", r.planes * r.oh * r.ow);
  cnn::adaptive_max_pool2d_forward(r.planes, r.h, r.w, r.oh, r.ow, x, y, idx, a.threads(4));
  return a.undefined();
}

const Registration rows({
    {"maxPool2dForward", MaxPool2dForward<false>},
    {"maxPool2dRefForward", MaxPool2dForward<true>},
    {"maxPoolBackward", MaxPoolBackward<false>},
    {"maxPoolReluBackward", MaxPoolBackward<true>},
    {"avgPool2dForward", AvgPool2d<cnn::avg_pool2d_forward, true>},
    {"avgPool2dBackward", AvgPool2d<cnn::avg_pool2d_backward, false>},
    {"avgPool2dRefForward", AvgPool2d<cnn::avg_pool2d_ref, true, true>},
    {"adaptiveAvgPool2dForward", AdaptiveAvgPool2d<cnn::adaptive_avg_pool2d_forward, true>},
    {"adaptiveAvgPool2dBackward", AdaptiveAvgPool2d<cnn::adaptive_avg_pool2d_backward, false>},
    {"adaptiveAvgPool2dRefForward", AdaptiveAvgPool2d<cnn::adaptive_avg_pool2d_ref, true, true>},
    {"adaptiveMaxPool2dForward", AdaptiveMaxPool2dForward},
});

}  // namespace
