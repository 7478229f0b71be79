// Bindings for native/activation: pointwise activations and (log-)softmax.
#include <napi.h>

#include "activation/activation.h"
#include "bindings/registry.h"

namespace {

using namespace cnn_binding;

// (x, y, slope, threads)
Napi::Value LeakyReluForward(const Args& a) {
  a.expect_count(4);
  const Pointwise b = a.pointwise(0, {"x", "y"});
  cnn::leaky_relu_forward(b.at[0], b.at[1], b.n, (float)a.number(2, "slope"), a.threads(3));
  return a.undefined();
}

// (x, dy, dx, slope, threads)
Napi::Value LeakyReluBackward(const Args& a) {
  a.expect_count(5);
  const Pointwise b = a.pointwise(0, {"x", "dy", "dx"});
  cnn::leaky_relu_backward(b.at[0], b.at[1], b.at[2], b.n, (float)a.number(3, "slope"), a.threads(4));
  return a.undefined();
}

using UnaryForward = void (*)(const float*, float*, int64_t, int);
using UnaryBackward = void (*)(const float*, const float*, float*, int64_t, int);

// (x, y, threads)
template <UnaryForward F>
Napi::Value Forward(const Args& a) {
  a.expect_count(3);
  const Pointwise b = a.pointwise(0, {"x", "y"});
  F(b.at[0], b.at[1], b.n, a.threads(2));
  return a.undefined();
}

// (y, dy, dx, threads): from the forward output y.
template <UnaryBackward F>
Napi::Value Backward(const Args& a) {
  a.expect_count(4);
  const Pointwise b = a.pointwise(0, {"y", "dy", "dx"});
  F(b.at[0], b.at[1], b.at[2], b.n, a.threads(3));
  return a.undefined();
}

// The settings of a (log-)softmax over one axis, and that axis as (outer, dim, inner).
struct Softmax {
  int64_t outer, dim, inner, total;
  bool log;
};

// params {shape, dim (non-negative, < rank), log}
Softmax read_softmax(const Args& a) {
  const Fields f = a.object(0, "params");
  const auto shape = f.shape("shape");
  if (shape.empty()) a.range_error("expected params.shape with at least 1 dimension");
  const int64_t d = f.integer("dim", 0, (int64_t)shape.size() - 1);
  Softmax s{1, shape[d], 1, numel(shape), f.boolean("log")};
  for (int64_t i = 0; i < d; ++i) s.outer *= shape[i];
  for (size_t i = d + 1; i < shape.size(); ++i) s.inner *= shape[i];
  return s;
}

// (params, x, y, threads)
Napi::Value SoftmaxForward(const Args& a) {
  a.expect_count(4);
  const Softmax s = read_softmax(a);
  const float* x = a.floats(1, "x", s.total);
  float* y = a.floats(2, "y", s.total);
  cnn::softmax_forward(x, y, s.outer, s.dim, s.inner, s.log, a.threads(3));
  return a.undefined();
}

// (params, y, dy, dx, threads): from the forward output y.
Napi::Value SoftmaxBackward(const Args& a) {
  a.expect_count(5);
  const Softmax s = read_softmax(a);
  const float* y = a.floats(1, "y", s.total);
  const float* dy = a.floats(2, "dy", s.total);
  float* dx = a.floats(3, "dx", s.total);
  cnn::softmax_backward(y, dy, dx, s.outer, s.dim, s.inner, s.log, a.threads(4));
  return a.undefined();
}

const Registration rows({
    {"leakyReluForward", LeakyReluForward},
    {"leakyReluBackward", LeakyReluBackward},
    {"sigmoidForward", Forward<cnn::sigmoid_forward>},
    {"sigmoidBackward", Backward<cnn::sigmoid_backward>},
    {"tanhForward", Forward<cnn::tanh_forward>},
    {"tanhBackward", Backward<cnn::tanh_backward>},
    {"softmaxForward", SoftmaxForward},
    {"softmaxBackward", SoftmaxBackward},
});

}  // namespace
