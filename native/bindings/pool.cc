// Bindings for native/pool: every shape, window and buffer length is checked here, so no
// call from JavaScript can make a kernel read or write outside the arrays it was given.
#include <napi.h>

#include <string>

#include "bindings/args.h"
#include "bindings/registry.h"
#include "pool/pool.h"

namespace {

using namespace cnn_binding;

// Indices travel as float32: flat plane positions must stay exactly representable.
constexpr int64_t kMaxPlane = 1LL << 24;
constexpr int64_t kMaxElements = 1LL << 36;

Napi::Object param_object(const Args& a, const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsObject() || info[i].IsArray()) a.type_error("expected a pooling parameter object");
  return info[i].As<Napi::Object>();
}

int64_t int_field(const Args& a, Napi::Object o, const char* name, int64_t lo, int64_t hi) {
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) a.type_error(std::string("expected a number for params.") + name);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d))
    a.type_error(std::string("expected an integer for params.") + name + " but received " + std::to_string(d));
  if (d < (double)lo || d > (double)hi)
    a.range_error(std::string("params.") + name + " must be between " + std::to_string(lo) + " and " +
                  std::to_string(hi) + " but is " + std::to_string((int64_t)d));
  return (int64_t)d;
}

bool bool_field(const Args& a, Napi::Object o, const char* name) {
  Napi::Value v = o.Get(name);
  if (!v.IsBoolean()) a.type_error(std::string("expected a boolean for params.") + name);
  return v.As<Napi::Boolean>().Value();
}

void check_plane(const Args& a, int64_t planes, int64_t h, int64_t w) {
  if (h * w > kMaxPlane) a.range_error("an input plane larger than 2^24 elements is not supported");
  if (planes * h * w > kMaxElements) a.range_error("input is too large");
}

// Reads {n, c, h, w, kh, kw, strideH, strideW, padH, padW, [dilH, dilW,] ceilMode} and applies
// PyTorch's pool2d_shape_check, so the windows the kernels walk are the ones PyTorch walks.
cnn::Pool2dParams read_pool(const Args& a, const Napi::CallbackInfo& info, size_t i, bool dilation,
                            bool* ceil_mode) {
  Napi::Object o = param_object(a, info, i);
  cnn::Pool2dParams p;
  const int64_t n = int_field(a, o, "n", 1, kMaxIndex), c = int_field(a, o, "c", 1, kMaxIndex);
  p.h = int_field(a, o, "h", 1, kMaxIndex);
  p.w = int_field(a, o, "w", 1, kMaxIndex);
  p.planes = n * c;
  check_plane(a, p.planes, p.h, p.w);
  p.kh = (int)int_field(a, o, "kh", 1, 1 << 20);
  p.kw = (int)int_field(a, o, "kw", 1, 1 << 20);
  p.stride_h = (int)int_field(a, o, "strideH", 1, 1 << 20);
  p.stride_w = (int)int_field(a, o, "strideW", 1, 1 << 20);
  p.pad_h = (int)int_field(a, o, "padH", 0, p.kh / 2);
  p.pad_w = (int)int_field(a, o, "padW", 0, p.kw / 2);
  p.dil_h = dilation ? (int)int_field(a, o, "dilH", 1, 1 << 20) : 1;
  p.dil_w = dilation ? (int)int_field(a, o, "dilW", 1, 1 << 20) : 1;
  *ceil_mode = bool_field(a, o, "ceilMode");
  p.out_h = cnn::pool_output_size(p.h, p.kh, p.pad_h, p.stride_h, p.dil_h, *ceil_mode);
  p.out_w = cnn::pool_output_size(p.w, p.kw, p.pad_w, p.stride_w, p.dil_w, *ceil_mode);
  if (p.out_h < 1 || p.out_w < 1)
    a.range_error("output size " + std::to_string(p.out_h) + "x" + std::to_string(p.out_w) +
                  " is too small for input " + std::to_string(p.h) + "x" + std::to_string(p.w));
  if (p.planes * p.out_h * p.out_w > kMaxElements) a.range_error("output is too large");
  return p;
}

// (params, x, y, indices, threads)
Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPool2dForward");
  a.expect_count(5);
  bool ceil_mode;
  cnn::Pool2dParams p = read_pool(a, info, 0, true, &ceil_mode);
  const float* x = a.floats(1, "x", p.planes * p.h * p.w);
  float* y = a.floats(2, "y", p.planes * p.out_h * p.out_w);
  float* idx = a.floats(3, "indices", p.planes * p.out_h * p.out_w);
  cnn::max_pool2d_forward(p, x, y, idx, a.threads(4));
  return info.Env().Undefined();
}

// The leading (planes, h, w, outH, outW) of the plane-wise pooling calls.
struct PlaneArgs {
  int64_t planes, h, w, oh, ow;
};

PlaneArgs read_planes(const Args& a) {
  PlaneArgs r;
  r.planes = a.integer(0, "planes", 1, kMaxIndex);
  r.h = a.integer(1, "h", 1, kMaxIndex);
  r.w = a.integer(2, "w", 1, kMaxIndex);
  r.oh = a.integer(3, "outH", 1, kMaxIndex);
  r.ow = a.integer(4, "outW", 1, kMaxIndex);
  check_plane(a, r.planes, r.h, r.w);
  if (r.oh * r.ow > kMaxPlane || r.planes * r.oh * r.ow > kMaxElements) a.range_error("output is too large");
  return r;
}

// (planes, h, w, outH, outW, dy, indices, dx, threads): indices from maxPool2dForward or
// adaptiveMaxPool2dForward, each checked to be an integer in [-1, h·w).
Napi::Value MaxPoolBackward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPoolBackward");
  a.expect_count(9);
  const auto [planes, h, w, oh, ow] = read_planes(a);
  const int64_t out_n = planes * oh * ow;
  const float* dy = a.floats(5, "dy", out_n);
  const float* idx = a.floats(6, "indices", out_n);
  float* dx = a.floats(7, "dx", planes * h * w);
  const int threads = a.threads(8);
  const int64_t bad = cnn::first_bad_index(idx, out_n, h * w, threads);
  if (bad >= 0)
    a.range_error("indices[" + std::to_string(bad) + "] is " + std::to_string(idx[bad]) +
                  ", not an integer position in a " + std::to_string(h) + "x" + std::to_string(w) + " plane");
  cnn::max_pool_backward(planes, h * w, oh * ow, dy, idx, dx, threads);
  return info.Env().Undefined();
}

// Reads {n, c, h, w, kh, kw, strideH, strideW, padH, padW, ceilMode, countIncludePad,
// divisorOverride} (divisorOverride 0: none).
struct AvgArgs {
  cnn::Pool2dParams p;
  bool count_include_pad;
  int divisor_override;
};

AvgArgs read_avg(const Args& a, const Napi::CallbackInfo& info, size_t i) {
  AvgArgs r;
  bool ceil_mode;
  r.p = read_pool(a, info, i, false, &ceil_mode);
  Napi::Object o = info[i].As<Napi::Object>();
  r.count_include_pad = bool_field(a, o, "countIncludePad");
  r.divisor_override = (int)int_field(a, o, "divisorOverride", -kMaxIndex, kMaxIndex);
  return r;
}

// (params, x, y, threads)
Napi::Value AvgPool2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "avgPool2dForward");
  a.expect_count(4);
  AvgArgs r = read_avg(a, info, 0);
  const float* x = a.floats(1, "x", r.p.planes * r.p.h * r.p.w);
  float* y = a.floats(2, "y", r.p.planes * r.p.out_h * r.p.out_w);
  cnn::avg_pool2d_forward(r.p, r.count_include_pad, r.divisor_override, x, y, a.threads(3));
  return info.Env().Undefined();
}

// (params, dy, dx, threads)
Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "avgPool2dBackward");
  a.expect_count(4);
  AvgArgs r = read_avg(a, info, 0);
  const float* dy = a.floats(1, "dy", r.p.planes * r.p.out_h * r.p.out_w);
  float* dx = a.floats(2, "dx", r.p.planes * r.p.h * r.p.w);
  cnn::avg_pool2d_backward(r.p, r.count_include_pad, r.divisor_override, dy, dx, a.threads(3));
  return info.Env().Undefined();
}


// (planes, h, w, outH, outW, x, y, threads)
Napi::Value AdaptiveAvgPool2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "adaptiveAvgPool2dForward");
  a.expect_count(8);
  PlaneArgs r = read_planes(a);
  const float* x = a.floats(5, "x", r.planes * r.h * r.w);
  float* y = a.floats(6, "y", r.planes * r.oh * r.ow);
  cnn::adaptive_avg_pool2d_forward(r.planes, r.h, r.w, r.oh, r.ow, x, y, a.threads(7));
  return info.Env().Undefined();
}

// (planes, h, w, outH, outW, dy, dx, threads)
Napi::Value AdaptiveAvgPool2dBackward(const Napi::CallbackInfo& info) {
  Args a(info, "adaptiveAvgPool2dBackward");
  a.expect_count(8);
  PlaneArgs r = read_planes(a);
  const float* dy = a.floats(5, "dy", r.planes * r.oh * r.ow);
  float* dx = a.floats(6, "dx", r.planes * r.h * r.w);
  cnn::adaptive_avg_pool2d_backward(r.planes, r.h, r.w, r.oh, r.ow, dy, dx, a.threads(7));
  return info.Env().Undefined();
}

// (planes, h, w, outH, outW, x, y, indices, threads)
Napi::Value AdaptiveMaxPool2dForward(const Napi::CallbackInfo& info) {
  Args a(info, "adaptiveMaxPool2dForward");
  a.expect_count(9);
  PlaneArgs r = read_planes(a);
  const float* x = a.floats(5, "x", r.planes * r.h * r.w);
  float* y = a.floats(6, "y", r.planes * r.oh * r.ow);
  float* idx = a.floats(7, "indices", r.planes * r.oh * r.ow);
  cnn::adaptive_max_pool2d_forward(r.planes, r.h, r.w, r.oh, r.ow, x, y, idx, a.threads(8));
  return info.Env().Undefined();
}

}  // namespace

void register_pool_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2dForward", Napi::Function::New(env, MaxPool2dForward));
  exports.Set("maxPoolBackward", Napi::Function::New(env, MaxPoolBackward));
  exports.Set("avgPool2dForward", Napi::Function::New(env, AvgPool2dForward));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, AvgPool2dBackward));
  exports.Set("adaptiveAvgPool2dForward", Napi::Function::New(env, AdaptiveAvgPool2dForward));
  exports.Set("adaptiveAvgPool2dBackward", Napi::Function::New(env, AdaptiveAvgPool2dBackward));
  exports.Set("adaptiveMaxPool2dForward", Napi::Function::New(env, AdaptiveMaxPool2dForward));
}
