// Bindings for native/activation: pointwise activations and (log-)softmax.
#include <napi.h>

#include "activation/activation.h"
#include "bindings/args.h"

namespace {

using namespace cnn_binding;

int64_t length_of(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* name) {
  a.floats(i, name, 0, false);
  return (int64_t)info[i].As<Napi::Float32Array>().ElementLength();
}

// (x, y, slope, threads)
Napi::Value LeakyReluForward(const Napi::CallbackInfo& info) {
  Args a(info, "leakyReluForward");
  a.expect_count(4);
  const int64_t n = length_of(a, info, 0, "x");
  const float* x = a.floats(0, "x", n);
  float* y = a.floats(1, "y", n);
  cnn::leaky_relu_forward(x, y, n, a.number(2, "slope"), a.threads(3));
  return info.Env().Undefined();
}

// (x, dy, dx, slope, threads)
Napi::Value LeakyReluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "leakyReluBackward");
  a.expect_count(5);
  const int64_t n = length_of(a, info, 0, "x");
  const float* x = a.floats(0, "x", n);
  const float* dy = a.floats(1, "dy", n);
  float* dx = a.floats(2, "dx", n);
  cnn::leaky_relu_backward(x, dy, dx, n, a.number(3, "slope"), a.threads(4));
  return info.Env().Undefined();
}

using UnaryForward = void (*)(const float*, float*, int64_t, int);
using UnaryBackward = void (*)(const float*, const float*, float*, int64_t, int);

// (x, y, threads)
template <UnaryForward F>
Napi::Value Forward(const Napi::CallbackInfo& info, const char* name) {
  Args a(info, name);
  a.expect_count(3);
  const int64_t n = length_of(a, info, 0, "x");
  const float* x = a.floats(0, "x", n);
  float* y = a.floats(1, "y", n);
  F(x, y, n, a.threads(2));
  return info.Env().Undefined();
}

// (y, dy, dx, threads)
template <UnaryBackward F>
Napi::Value Backward(const Napi::CallbackInfo& info, const char* name) {
  Args a(info, name);
  a.expect_count(4);
  const int64_t n = length_of(a, info, 0, "y");
  const float* y = a.floats(0, "y", n);
  const float* dy = a.floats(1, "dy", n);
  float* dx = a.floats(2, "dx", n);
  F(y, dy, dx, n, a.threads(3));
  return info.Env().Undefined();
}

Napi::Value SigmoidForward(const Napi::CallbackInfo& info) { return Forward<cnn::sigmoid_forward>(info, "sigmoidForward"); }
Napi::Value SigmoidBackward(const Napi::CallbackInfo& info) { return Backward<cnn::sigmoid_backward>(info, "sigmoidBackward"); }
Napi::Value TanhForward(const Napi::CallbackInfo& info) { return Forward<cnn::tanh_forward>(info, "tanhForward"); }
Napi::Value TanhBackward(const Napi::CallbackInfo& info) { return Backward<cnn::tanh_backward>(info, "tanhBackward"); }

struct Axis {
  int64_t outer, dim, inner, total;
};

// shape and a non-negative dim < rank → (outer, dim, inner)
Axis read_axis(const Args& a, size_t shape_i, size_t dim_i) {
  auto shape = a.shape(shape_i, "shape");
  if (shape.empty()) a.range_error("expected a shape with at least 1 dimension");
  const int64_t d = a.integer(dim_i, "dim", 0, (int64_t)shape.size() - 1);
  Axis ax{1, shape[d], 1, numel(shape)};
  for (int64_t i = 0; i < d; ++i) ax.outer *= shape[i];
  for (size_t i = d + 1; i < shape.size(); ++i) ax.inner *= shape[i];
  return ax;
}

// (x, shape, dim, y, log, threads)
Napi::Value SoftmaxForward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxForward");
  a.expect_count(6);
  Axis ax = read_axis(a, 1, 2);
  const float* x = a.floats(0, "x", ax.total);
  float* y = a.floats(3, "y", ax.total);
  const bool log = a.boolean(4, "log");
  cnn::softmax_forward(x, y, ax.outer, ax.dim, ax.inner, log, a.threads(5));
  return info.Env().Undefined();
}

// (y, dy, shape, dim, dx, log, threads)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Args a(info, "softmaxBackward");
  a.expect_count(7);
  Axis ax = read_axis(a, 2, 3);
  const float* y = a.floats(0, "y", ax.total);
  const float* dy = a.floats(1, "dy", ax.total);
  float* dx = a.floats(4, "dx", ax.total);
  const bool log = a.boolean(5, "log");
  cnn::softmax_backward(y, dy, dx, ax.outer, ax.dim, ax.inner, log, a.threads(6));
  return info.Env().Undefined();
}

}  // namespace

void register_activation_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("leakyReluForward", Napi::Function::New(env, LeakyReluForward));
  exports.Set("leakyReluBackward", Napi::Function::New(env, LeakyReluBackward));
  exports.Set("sigmoidForward", Napi::Function::New(env, SigmoidForward));
  exports.Set("sigmoidBackward", Napi::Function::New(env, SigmoidBackward));
  exports.Set("tanhForward", Napi::Function::New(env, TanhForward));
  exports.Set("tanhBackward", Napi::Function::New(env, TanhBackward));
  exports.Set("softmaxForward", Napi::Function::New(env, SoftmaxForward));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward));
}
